//! `{{var}}` interpolation.
//!
//! A template is text with placeholders. A placeholder names a variable and
//! may walk into it: `{{patient}}`, `{{credentials.users[0].username}}`.
//! Variables are JSON values: a placeholder that is the whole template
//! yields the value itself (so a captured number stays a number in a JSON
//! body or an expectation); inside text it is rendered without quotes.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer};
use serde_json::Value;

use super::vars::Vars;

/// One step of a variable reference: a field or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Field(String),
    Index(usize),
}

/// `name.field[0].other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub name: String,
    pub path: Vec<Segment>,
    source: String,
}

impl VarRef {
    pub fn parse(src: &str) -> Result<VarRef, String> {
        let s = src.trim();
        let bad = || {
            format!("`{{{{{src}}}}}` is not a variable reference (expected `name`, `name.field` or `name[0]`)")
        };
        let name_end = s.find(['.', '[']).unwrap_or(s.len());
        let name = &s[..name_end];
        if !is_ident(name) {
            return Err(bad());
        }
        let mut path = Vec::new();
        let mut rest = &s[name_end..];
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                let field = &r[..end];
                if field.is_empty()
                    || !field
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_-$".contains(c))
                {
                    return Err(bad());
                }
                path.push(Segment::Field(field.to_owned()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').ok_or_else(bad)?;
                let index = r[..end].trim().parse::<usize>().map_err(|_| bad())?;
                path.push(Segment::Index(index));
                rest = &r[end + 1..];
            } else {
                return Err(bad());
            }
        }
        Ok(VarRef {
            name: name.to_owned(),
            path,
            source: s.to_owned(),
        })
    }

    /// Looks the reference up; the error names what was missing.
    pub fn resolve<'a>(&self, vars: &'a Vars) -> Result<&'a Value, TemplateError> {
        let mut v = vars.get(&self.name).ok_or_else(|| TemplateError::Unknown {
            name: self.name.clone(),
            known: vars.names(),
        })?;
        for seg in &self.path {
            v = match (seg, v) {
                (Segment::Field(f), Value::Object(m)) => m.get(f),
                (Segment::Index(i), Value::Array(a)) => a.get(*i),
                _ => None,
            }
            .ok_or_else(|| TemplateError::Missing {
                reference: self.source.clone(),
                value: truncate(&v.to_string(), 200),
            })?;
        }
        Ok(v)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown variable `{name}` (defined: {})", known.join(", "))]
    Unknown { name: String, known: Vec<String> },
    #[error("`{reference}` does not exist in {value}")]
    Missing { reference: String, value: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(VarRef),
}

/// Text with `{{var}}` placeholders, checked when the scenario loads.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unclosed `{{{{` in `{source}`"))?;
            parts.push(Part::Var(VarRef::parse(&after[..close])?));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    pub fn literal(text: &str) -> Template {
        Template {
            source: text.to_owned(),
            parts: vec![Part::Text(text.to_owned())],
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variables the template refers to.
    pub fn references(&self) -> impl Iterator<Item = &VarRef> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Text(_) => None,
        })
    }

    /// Renders to text.
    pub fn render(&self, vars: &Vars) -> Result<String, TemplateError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(&display(v.resolve(vars)?)),
            }
        }
        Ok(out)
    }

    /// Renders to a value: a lone placeholder keeps the variable's type.
    pub fn render_value(&self, vars: &Vars) -> Result<Value, TemplateError> {
        match self.parts.as_slice() {
            [Part::Var(v)] => Ok(v.resolve(vars)?.clone()),
            _ => Ok(Value::String(self.render(vars)?)),
        }
    }
}

/// A value as it reads inside text: strings without quotes.
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        s.to_owned()
    } else {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({:?})", self.source)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Numbers and booleans are accepted as their text (`limit: 5`).
        let v = Scalar::deserialize(d)?;
        Template::parse(&v.0).map_err(de::Error::custom)
    }
}

/// A YAML scalar read as text.
pub(crate) struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Renders every string inside a JSON value as a template.
pub fn render_json(v: &Value, vars: &Vars) -> Result<Value, TemplateError> {
    Ok(match v {
        // Most strings of expectations and bodies hold no placeholder.
        Value::String(s) if !s.contains("{{") => Value::String(s.clone()),
        Value::String(s) => match Template::parse(s) {
            Ok(t) => t.render_value(vars)?,
            // Checked at load time; a string that is not a template is text.
            Err(_) => Value::String(s.clone()),
        },
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_json(x, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), render_json(x, vars)?)))
                .collect::<Result<_, TemplateError>>()?,
        ),
        other => other.clone(),
    })
}

/// Every template inside a JSON value, for load-time checks.
pub fn json_templates(v: &Value, out: &mut Vec<Template>) -> Result<(), String> {
    match v {
        Value::String(s) => out.push(Template::parse(s)?),
        Value::Array(a) => {
            for x in a {
                json_templates(x, out)?;
            }
        }
        Value::Object(m) => {
            for x in m.values() {
                json_templates(x, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut v = Vars::default();
        v.set("id", json!(42));
        v.set("name", json!("Lee"));
        v.set("credentials", json!({"users": [{"username": "oscardoc"}]}));
        v
    }

    #[test]
    fn renders_text_and_keeps_lone_values_typed() {
        let t = Template::parse("/demographics/{{id}}?n={{ name }}").unwrap();
        assert_eq!(t.render(&vars()).unwrap(), "/demographics/42?n=Lee");
        assert_eq!(
            Template::parse("{{id}}")
                .unwrap()
                .render_value(&vars())
                .unwrap(),
            json!(42)
        );
    }

    #[test]
    fn walks_into_values() {
        let t = Template::parse("{{credentials.users[0].username}}").unwrap();
        assert_eq!(t.render(&vars()).unwrap(), "oscardoc");
        let t = Template::parse("{{credentials.users[3].username}}").unwrap();
        let err = t.render(&vars()).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn unknown_variables_list_the_known_ones() {
        let err = Template::parse("{{nope}}")
            .unwrap()
            .render(&vars())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown variable `nope` (defined: credentials, id, name)"
        );
    }

    #[test]
    fn malformed_placeholders_are_load_errors() {
        assert!(Template::parse("{{id").unwrap_err().contains("unclosed"));
        assert!(Template::parse("{{ 9x }}").is_err());
        assert!(Template::parse("{{a..b}}").is_err());
        assert!(Template::parse("plain } text {").is_ok());
    }

    #[test]
    fn json_bodies_render_deeply() {
        let body = json!({"demographicNo": "{{id}}", "names": ["{{name}}", "x {{name}}"]});
        assert_eq!(
            render_json(&body, &vars()).unwrap(),
            json!({"demographicNo": 42, "names": ["Lee", "x Lee"]})
        );
    }
}
