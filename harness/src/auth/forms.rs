//! Just enough HTML reading to drive a login or consent page over HTTP:
//! the forms, their `action`, and the named fields they would submit.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

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

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are literals below, checked by the tests.
    cell.get_or_init(|| Regex::new(pattern).expect("valid form regex"))
}

fn form_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"(?is)<form\b([^>]*)>(.*?)</form\s*>")
}

fn input_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"(?is)<input\b([^>]*?)/?>")
}

fn attr_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r#"(?s)([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"#,
    )
}

fn attrs(s: &str) -> Vec<(String, String)> {
    attr_re()
        .captures_iter(s)
        .map(|c| {
            let value = c
                .get(2)
                .or_else(|| c.get(3))
                .or_else(|| c.get(4))
                .map_or("", |m| m.as_str());
            (c[1].to_ascii_lowercase(), unescape(value))
        })
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
    form_re()
        .captures_iter(html)
        .map(|c| {
            let a = attrs(&c[1]);
            let fields = input_re()
                .captures_iter(&c[2])
                .filter_map(|i| {
                    let ia = attrs(&i[1]);
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
pub fn fields(html: &str) -> Vec<HashMap<String, String>> {
    tags(html)
        .map(|text| {
            let mut m: HashMap<String, String> = quoted_attributes(text)
                .map(|(name, value)| (name.to_ascii_lowercase(), unescape(value)))
                .collect();
            if text.to_ascii_lowercase().contains(" checked") {
                m.insert("checked".into(), "checked".into());
            }
            m
        })
        .collect()
}

/// The text between the name and the first `>` of each `<input` or
/// `<button` (in any case) that ends a word.
fn tags(html: &str) -> impl Iterator<Item = &str> {
    let b = html.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(i) = memchr::memchr(b'<', &b[at..]).map(|i| at + i) {
            at = i + 1;
            let Some(name) = [&b"input"[..], b"button"].into_iter().find(|n| {
                b.get(at..at + n.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(n))
            }) else {
                continue;
            };
            let start = at + name.len();
            if html[start..]
                .chars()
                .next()
                .is_some_and(crate::snapshot::is_word)
            {
                continue;
            }
            // Without a `>` after it, no later tag closes either.
            let end = start + memchr::memchr(b'>', &b[start..])?;
            at = end + 1;
            return Some(&html[start..end]);
        }
        at = b.len();
        None
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
    let skip_space = |at: usize| {
        at + tag[at..]
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map_or(tag.len() - at, |(i, _)| i)
    };
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
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "<input", "<INPUT", "<Button", "<inputs", "<inputé", "<input\u{300}", "<in",
                    "<b", ">", "<", " ", "\n", "\u{a0}", "=", " = ", "\"", "'", "name", "x-y.z",
                    "[1]", "9a", "_", ":", "\u{212a}", "\u{17f}", "é", "type=\"hidden\"",
                    "value='v'", " checked", "&amp;",
                ]),
                0..16,
            ),
        ) {
            let html = pieces.concat();
            let tags: Vec<&str> = tags(&html).collect();
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
        assert_eq!(f[0].get("value").map(String::as_str), Some("a&b"));
        assert!(f[1].contains_key("checked"));
        assert_eq!(f[2].get("name").map(String::as_str), Some("proceed"));
        assert_eq!(f[2].get("value").map(String::as_str), Some("1"));
        assert!(f
            .iter()
            .all(|x| x.get("name").map(String::as_str) != Some("no")));
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
