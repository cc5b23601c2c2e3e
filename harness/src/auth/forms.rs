//! Just enough HTML reading to drive a login or consent page over HTTP:
//! the forms, their `action`, and the named fields they would submit.

/// One `<form>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub id: Option<String>,
    pub action: String,
    pub method: String,
    /// Named `input`s a browser would submit, in document order.
    pub fields: Vec<(String, String)>,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, name: &str, value: &str) {
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(f) => f.1 = value.to_owned(),
            None => self.fields.push((name.to_owned(), value.to_owned())),
        }
    }
}

/// A tag's attributes, names lower-cased and values unescaped.
fn attrs(tag: &str) -> Vec<(String, String)> {
    attributes(tag)
        .map(|(name, value)| (name.to_ascii_lowercase(), unescape(value)))
        .collect()
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Every form of a page.
pub fn forms(html: &str) -> Vec<Form> {
    form_elements(html)
        .map(|(tag, content)| {
            let a = attrs(tag);
            let fields = tags(content, &[b"input"])
                .filter_map(|tag| {
                    let ia = attrs(tag.strip_suffix('/').unwrap_or(tag));
                    let name = attr(&ia, "name")?;
                    let kind = attr(&ia, "type").unwrap_or("text").to_ascii_lowercase();
                    let unchecked = matches!(kind.as_str(), "checkbox" | "radio")
                        && attr(&ia, "checked").is_none();
                    if matches!(kind.as_str(), "submit" | "button" | "image" | "reset")
                        || unchecked
                        || attr(&ia, "disabled").is_some()
                    {
                        return None;
                    }
                    Some((name.to_owned(), attr(&ia, "value").unwrap_or("").to_owned()))
                })
                .collect();
            Form {
                id: attr(&a, "id").map(str::to_owned),
                action: attr(&a, "action").unwrap_or("").to_owned(),
                method: attr(&a, "method").unwrap_or("get").to_ascii_uppercase(),
                fields,
            }
        })
        .collect()
}

/// Attributes of every `<input>` and `<button>` of a page, by lower-cased
/// name (`checked` when the tag has it). The scanners
/// find what `(?is)<(?:input|button)\b([^>]*)>` and its attribute pattern
/// (in the tests) find, faster: every login and consent page is read.
pub fn fields(html: &str) -> Vec<Attributes> {
    tags(html, &[b"input", b"button"])
        .map(|text| {
            let mut a: Vec<(String, String)> = quoted_attributes(text)
                .map(|(name, value)| (name.to_ascii_lowercase(), unescape(value)))
                .collect();
            if text.to_ascii_lowercase().contains(" checked") {
                a.push(("checked".into(), "checked".into()));
            }
            Attributes(a)
        })
        .collect()
}

/// A tag's attributes, names lower-cased, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes(Vec<(String, String)>);

impl Attributes {
    /// The value of `name` (lower case); of a repeated attribute, the
    /// last (`checked` is added after the tag's own attributes).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// The text between the name and the first `>` of each tag named one of
/// `names` (ASCII, matched in any case) where the name ends a word: what
/// `(?is)<(?:name|…)\b([^>]*)>` captures.
fn tags<'h>(html: &'h str, names: &'h [&[u8]]) -> impl Iterator<Item = &'h str> + 'h {
    let b = html.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(i) = memchr::memchr(b'<', &b[at..]).map(|i| at + i) {
            at = i + 1;
            let Some(start) = named(html, at, names) else {
                continue;
            };
            // Without a `>` after it, no later tag closes either.
            let end = start + memchr::memchr(b'>', &b[start..])?;
            at = end + 1;
            return Some(&html[start..end]);
        }
        at = b.len();
        None
    })
}

/// Where one of `names` (in any case) that ends a word, at `at`, ends.
fn named(html: &str, at: usize, names: &[&[u8]]) -> Option<usize> {
    let b = html.as_bytes();
    let name = names.iter().find(|n| {
        b.get(at..at + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
    })?;
    let end = at + name.len();
    let word_goes_on = html[end..]
        .chars()
        .next()
        .is_some_and(crate::snapshot::is_word);
    (!word_goes_on).then_some(end)
}

/// The attribute text and the content of each form: what
/// `(?is)<form\b([^>]*)>(.*?)</form\s*>` captures.
fn form_elements(html: &str) -> impl Iterator<Item = (&str, &str)> {
    let b = html.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(i) = memchr::memchr(b'<', &b[at..]).map(|i| at + i) {
            at = i + 1;
            let Some(start) = named(html, at, &[b"form"]) else {
                continue;
            };
            // Without a `>` or a closing tag after this form, no later
            // form has one either.
            let gt = start + memchr::memchr(b'>', &b[start..])?;
            let (close, end) = form_close(html, gt + 1)?;
            at = end;
            return Some((&html[start..gt], &html[gt + 1..close]));
        }
        at = b.len();
        None
    })
}

/// Where the first `</form\s*>` (in any case) at or after `from` starts
/// and ends.
fn form_close(html: &str, from: usize) -> Option<(usize, usize)> {
    let b = html.as_bytes();
    memchr::memchr_iter(b'<', &b[from..])
        .map(|i| from + i)
        .find_map(|i| {
            let name = b.get(i + 1..i + 6)?;
            if !name.eq_ignore_ascii_case(b"/form") {
                return None;
            }
            let gt = past_space(html, i + 6);
            (b.get(gt) == Some(&b'>')).then_some((i, gt + 1))
        })
}

/// The first form `action` of a page, unescaped: what
/// `(?is)<form[^>]*action="([^"]+)"` captures (the last `action="…"`
/// with a value within the first form tag that has one).
pub fn form_action(html: &str) -> Option<String> {
    let b = html.as_bytes();
    memchr::memchr_iter(b'<', b).find_map(|i| {
        let name = b.get(i + 1..i + 5)?;
        if !name.eq_ignore_ascii_case(b"form") {
            return None;
        }
        let tag = &b[i + 5..];
        let gt = memchr::memchr(b'>', tag).unwrap_or(tag.len());
        (0..gt).rev().find_map(|at| {
            if !tag[at..].get(..8)?.eq_ignore_ascii_case(b"action=\"") {
                return None;
            }
            let rest = &html[i + 5 + at + 8..];
            let len = rest.find('"').filter(|&len| len > 0)?;
            Some(unescape(&rest[..len]))
        })
    })
}

/// Where the first character at or after `at` that is not white space
/// (`\s`, Unicode's) is, or the end.
fn past_space(text: &str, at: usize) -> usize {
    at + text[at..]
        .char_indices()
        .find(|(_, c)| !c.is_whitespace())
        .map_or(text.len() - at, |(i, _)| i)
}

/// `name`, `name=value`, `name="value"` and `name='value'` pairs of a
/// tag's text (the value `""` when there is none), as a leftmost-first
/// search for
/// `([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`
/// finds them.
fn attributes(tag: &str) -> impl Iterator<Item = (&str, &str)> {
    let b = tag.as_bytes();
    let starts = |c: u8| c.is_ascii_alphabetic() || matches!(c, b'_' | b':');
    let continues = move |c: u8| starts(c) || c.is_ascii_digit() || matches!(c, b'-' | b'.');
    let skip_space = |at: usize| past_space(tag, at);
    let mut at = 0;
    std::iter::from_fn(move || {
        let i = at + b[at..].iter().position(|&c| starts(c))?;
        let name_end = i + b[i..]
            .iter()
            .position(|&c| !continues(c))
            .unwrap_or(b.len() - i);
        let name = &tag[i..name_end];
        at = name_end;
        let eq = skip_space(name_end);
        if b.get(eq) != Some(&b'=') {
            return Some((name, ""));
        }
        let open = skip_space(eq + 1);
        let value = match b.get(open) {
            Some(&quote @ (b'"' | b'\'')) => {
                let Some(len) = memchr::memchr(quote, &b[open + 1..]) else {
                    return Some((name, ""));
                };
                at = open + 1 + len + 1;
                &tag[open + 1..open + 1 + len]
            }
            Some(_) => {
                let len = tag[open..]
                    .char_indices()
                    .find(|&(_, c)| c.is_whitespace() || matches!(c, '"' | '\'' | '>'))
                    .map_or(tag.len() - open, |(j, _)| j);
                if len == 0 {
                    return Some((name, ""));
                }
                at = open + len;
                &tag[open..at]
            }
            None => return Some((name, "")),
        };
        Some((name, value))
    })
}

/// `name="value"` and `name='value'` pairs of a tag's text, found as a
/// leftmost-first search finds them (a name starts with a letter, `_` or
/// `:`; under case folding the Kelvin sign and long s are letters).
fn quoted_attributes(tag: &str) -> impl Iterator<Item = (&str, &str)> {
    let starts =
        |c: char| c.is_ascii_alphabetic() || matches!(c, '_' | ':' | '\u{212a}' | '\u{17f}');
    let continues =
        move |c: char| starts(c) || c.is_ascii_digit() || matches!(c, '-' | '.' | '[' | ']');
    let skip_space = |at: usize| past_space(tag, at);
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some((i, c)) = tag[at..].char_indices().next().map(|(i, c)| (at + i, c)) {
            if !starts(c) {
                at = i + c.len_utf8();
                continue;
            }
            let name_end = tag[i..]
                .char_indices()
                .find(|(_, c)| !continues(*c))
                .map_or(tag.len(), |(j, _)| i + j);
            // A match starting inside this name would end where it does.
            at = name_end;
            let eq = skip_space(name_end);
            if tag.as_bytes().get(eq) != Some(&b'=') {
                continue;
            }
            let open = skip_space(eq + 1);
            let Some(&quote @ (b'"' | b'\'')) = tag.as_bytes().get(open) else {
                continue;
            };
            let Some(len) = memchr::memchr(quote, &tag.as_bytes()[open + 1..]) else {
                continue;
            };
            at = open + 1 + len + 1;
            return Some((&tag[i..name_end], &tag[open + 1..open + 1 + len]));
        }
        None
    })
}

/// The HTML character references a server's escaping produces.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::glued;
    use regex::Regex;

    /// The patterns the scanners of [`forms`] implement.
    fn form_re() -> Regex {
        Regex::new(r"(?is)<form\b([^>]*)>(.*?)</form\s*>").expect("valid")
    }

    fn input_re() -> Regex {
        Regex::new(r"(?is)<input\b([^>]*?)/?>").expect("valid")
    }

    fn attr_re() -> Regex {
        Regex::new(
            r#"(?s)([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"#,
        )
        .expect("valid")
    }

    proptest::proptest! {
        /// The form action is the one the pattern finds.
        #[test]
        fn the_form_action_is_what_the_pattern_finds(
            html in glued(&[
                "<form", "<FORM", "<forms", "<for", ">", "<", " ", "action=\"", "ACTION=\"",
                "action=", "action", "\"", "/x", "&amp;", "é", "method=\"post\"",
            ], 14),
        ) {
            let re = Regex::new(r#"(?is)<form[^>]*action="([^"]+)""#).expect("valid");
            let expected = re.captures(&html).map(|c| unescape(group(&c, 1)));
            proptest::prop_assert_eq!(form_action(&html), expected);
        }
    }

    fn group<'h>(c: &regex::Captures<'h>, i: usize) -> &'h str {
        c.get(i).map_or("", |m| m.as_str())
    }

    proptest::proptest! {
        /// The scanners of [`forms`] find the forms, inputs and attributes
        /// the patterns find, whatever the case, spacing, quoting, slashes
        /// or characters around them.
        #[test]
        fn the_form_scanners_find_what_the_patterns_find(
            html in glued(&[
                "<form", "<FORM", "<forms", "<formé", "</form>", "</Form \n>", "</form\u{a0}>",
                "</form", "</forms>", "<input", "<INPUT", "<inputs", "<input\u{300}", "/>", "/",
                ">", "<", " ", "\n", "\u{a0}", "=", " = ", "\"", "'", "name", "x-y.z", "9a",
                "_", ":", "é", "\u{212a}", "type=hidden", "value='v'", "checked", "&amp;",
            ], 16),
        ) {
            let found: Vec<(&str, &str)> = form_elements(&html).collect();
            let expected: Vec<(&str, &str)> = form_re()
                .captures_iter(&html)
                .map(|c| (group(&c, 1), group(&c, 2)))
                .collect();
            proptest::prop_assert_eq!(&found, &expected);
            let inputs: Vec<&str> = tags(&html, &[b"input"])
                .map(|t| t.strip_suffix('/').unwrap_or(t))
                .collect();
            let expected: Vec<&str> = input_re().captures_iter(&html).map(|c| group(&c, 1)).collect();
            proptest::prop_assert_eq!(&inputs, &expected);
            for text in [html.as_str()].into_iter().chain(inputs) {
                let found: Vec<(&str, &str)> = attributes(text).collect();
                let expected: Vec<(&str, &str)> = attr_re()
                    .captures_iter(text)
                    .map(|a| {
                        let v = a.get(2).or_else(|| a.get(3)).or_else(|| a.get(4));
                        (group(&a, 1), v.map_or("", |m| m.as_str()))
                    })
                    .collect();
                proptest::prop_assert_eq!(found, expected);
            }
        }
    }

    /// The patterns the scanners of [`fields`] implement.
    fn input_or_button_re() -> Regex {
        Regex::new(r"(?is)<(?:input|button)\b([^>]*)>").expect("valid")
    }

    fn quoted_attr_re() -> Regex {
        Regex::new(r#"(?is)([a-zA-Z_:][-a-zA-Z0-9_:.\[\]]*)\s*=\s*(?:"([^"]*)"|'([^']*)')"#)
            .expect("valid")
    }

    proptest::proptest! {
        /// The scanners find the tags and attributes the patterns find,
        /// whatever the case, spacing, quoting or characters around them.
        #[test]
        fn the_scanners_find_what_the_patterns_find(
            html in glued(&[
                "<input", "<INPUT", "<Button", "<inputs", "<inputé", "<input\u{300}", "<in",
                "<b", ">", "<", " ", "\n", "\u{a0}", "=", " = ", "\"", "'", "name", "x-y.z",
                "[1]", "9a", "_", ":", "\u{212a}", "\u{17f}", "é", "type=\"hidden\"",
                "value='v'", " checked", "&amp;",
            ], 16),
        ) {
            let tags: Vec<&str> = tags(&html, &[b"input", b"button"]).collect();
            let expected: Vec<&str> = input_or_button_re()
                .captures_iter(&html)
                .map(|c| c.get(1).map_or("", |m| m.as_str()))
                .collect();
            proptest::prop_assert_eq!(&tags, &expected);
            for text in [html.as_str()].into_iter().chain(tags) {
                let found: Vec<(&str, &str)> = quoted_attributes(text).collect();
                let expected: Vec<(&str, &str)> = quoted_attr_re()
                    .captures_iter(text)
                    .map(|a| {
                        let v = a.get(2).or_else(|| a.get(3)).map_or("", |m| m.as_str());
                        (a.get(1).map_or("", |m| m.as_str()), v)
                    })
                    .collect();
                proptest::prop_assert_eq!(found, expected);
            }
        }
    }

    #[test]
    fn fields_read_inputs_and_buttons() {
        let html = r#"<form action="/x"><INPUT type="hidden" name='csrf' value="a&amp;b">
            <input type="checkbox" name="scope[a]" value="a" checked>
            <button name="proceed" value="1">Go</button><inputs name="no"></form>"#;
        let f = fields(html);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].get("value"), Some("a&b"));
        assert!(f[1].has("checked"));
        assert_eq!(f[2].get("name"), Some("proceed"));
        assert_eq!(f[2].get("value"), Some("1"));
        assert!(f.iter().all(|x| x.get("name") != Some("no")));
    }

    #[test]
    fn forms_yield_the_fields_a_browser_submits() {
        let html = r#"<form class="x"><input id="username" type="text"></form>
            <form id="scopeForm" method="post" action="/o/ws/oauth/authorize/decision;jsessionid=AB&amp;x">
              <input type="checkbox" checked="checked" disabled="disabled">
              <input type="hidden" name="session_authenticity_token" value="a&quot;b"/>
              <input type='hidden' name='oauth_token' id="oauth_token" value='t-1'/>
              <input type="checkbox" name="unchecked" value="1">
              <input type="hidden" name="oauthDecision" value="allow"/>
              <button type="submit">Authorize</button>
            </form>"#;
        let f = forms(html);
        assert_eq!(f.len(), 2);
        assert!(f[0].fields.is_empty(), "inputs without a name are not sent");
        let consent = &f[1];
        assert_eq!(consent.id.as_deref(), Some("scopeForm"));
        assert_eq!(consent.method, "POST");
        assert_eq!(
            consent.action,
            "/o/ws/oauth/authorize/decision;jsessionid=AB&x"
        );
        assert_eq!(
            consent.fields,
            vec![
                ("session_authenticity_token".to_owned(), "a\"b".to_owned()),
                ("oauth_token".to_owned(), "t-1".to_owned()),
                ("oauthDecision".to_owned(), "allow".to_owned()),
            ]
        );
    }

    #[test]
    fn character_references_are_decoded() {
        assert_eq!(
            unescape("a &amp; b &#39;c&#x27; &lt;&gt; &bogus; &"),
            "a & b 'c' <> &bogus; &"
        );
    }
}
