//! Just enough HTML reading to drive a login or consent page over HTTP:
//! the forms, their `action`, and the named fields they would submit.

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
