//! A response's header fields, kept as one text.
//!
//! Every response the engine receives (a step's, and each of an auth
//! flow's) has its headers kept for checks, captures and reports, and
//! most are never read: one buffer and one list of spans cost two
//! allocations where a pair of strings per field cost twenty.

use std::fmt;

/// Header fields in the order received; names compare case-insensitively,
/// values are the received bytes read as UTF-8 (invalid sequences
/// replaced, as `String::from_utf8_lossy` does).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    text: String,
    /// Per field: where its name ends (and its value starts) and where
    /// its value ends, in `text`; the name starts where the field before
    /// it ends.
    fields: Vec<(u32, u32)>,
}

impl Headers {
    /// Room for `fields` fields of `bytes` bytes in all.
    pub fn with_capacity(fields: usize, bytes: usize) -> Self {
        Headers {
            text: String::with_capacity(bytes),
            fields: Vec::with_capacity(fields),
        }
    }

    /// Appends a field. A field past 4 GiB of headers is dropped: no HTTP
    /// stack hands such headers over.
    pub fn push(&mut self, name: &str, value: &str) {
        let name_end = self.text.len() + name.len();
        let end = name_end + value.len();
        if let (Ok(name_end), Ok(end)) = (u32::try_from(name_end), u32::try_from(end)) {
            self.text.push_str(name);
            self.text.push_str(value);
            self.fields.push((name_end, end));
        }
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut start = 0;
        self.fields.iter().map(move |&(name_end, end)| {
            let (n, e) = (name_end as usize, end as usize);
            let field = (&self.text[start..n], &self.text[n..e]);
            start = e;
            field
        })
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every value of `name`, in order.
    pub fn get_all<'h: 'n, 'n>(&'h self, name: &'n str) -> impl Iterator<Item = &'h str> + 'n {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(fields: I) -> Self {
        let mut headers = Headers::default();
        for (n, v) in fields {
            headers.push(n.as_ref(), v.as_ref());
        }
        headers
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The fields read back are the fields pushed, in order, whatever
        /// their text (empty names and values, characters beyond ASCII).
        #[test]
        fn fields_read_back_as_pushed(
            fields in proptest::collection::vec(("[a-zA-Z-]{0,6}", "\\PC{0,8}"), 0..8),
        ) {
            let headers: Headers = fields.iter().map(|(n, v)| (n, v)).collect();
            let back: Vec<(String, String)> =
                headers.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
            proptest::prop_assert_eq!(headers.iter().count(), fields.len());
            proptest::prop_assert_eq!(back, fields);
        }
    }

    #[test]
    fn names_compare_case_insensitively_and_repeat() {
        let h: Headers = [
            ("set-cookie", "a=1"),
            ("Content-Type", "text/plain"),
            ("Set-Cookie", "b=2"),
        ]
        .into_iter()
        .collect();
        assert_eq!(h.get("content-type"), Some("text/plain"));
        assert_eq!(h.get_all("SET-COOKIE").collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(h.get("location"), None);
        assert_eq!(Headers::default().iter().count(), 0);
    }
}
