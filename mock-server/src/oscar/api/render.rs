//! Writing a bean (a JSON object keyed by Java property names) as each
//! variant's serialiser would: Open-O's Jackson 2 with the JAXB
//! introspector, OSCAR 19's Jackson 1 bean mapping, Juno's Jackson 2 with
//! ISO dates, and JAXB XML. The Java type drives everything: primitives are
//! never null, dates become epoch milliseconds or ISO strings, characters
//! are code points in XML.

use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::types::{decapitalize, JType, Registry, Scalar};
use super::Variant;
use crate::error::xml_escape;

/// Reads the instants beans carry: RFC 3339, `yyyy-MM-dd HH:mm:ss`,
/// `yyyy-MM-dd`, or epoch milliseconds.
pub fn instant(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        Value::String(s) => parse_instant(s),
        _ => None,
    }
}

pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    s.parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
}

/// A value as JSON in a variant's dialect.
pub fn json(ty: &JType, v: &Value, variant: Variant) -> Value {
    match ty {
        JType::Primitive(s) | JType::Boxed(s) => {
            let primitive = matches!(ty, JType::Primitive(_));
            scalar(*s, v).unwrap_or_else(|| if primitive { zero(*s) } else { Value::Null })
        }
        JType::Str => match v {
            Value::Null => Value::Null,
            Value::String(_) => v.clone(),
            other => Value::String(plain(other)),
        },
        JType::Char { primitive } => match v {
            Value::Null if *primitive => Value::String("\u{0}".into()),
            Value::Null => Value::Null,
            other => Value::String(plain(other).chars().take(1).collect()),
        },
        JType::Date => match instant(v) {
            None => Value::Null,
            Some(t) => match variant {
                Variant::Juno => Value::String(juno_date(t)),
                _ => Value::from(t.timestamp_millis()),
            },
        },
        JType::LocalDate => match instant(v) {
            None => Value::Null,
            Some(t) => Value::String(t.format("%Y-%m-%d").to_string()),
        },
        JType::LocalDateTime => match instant(v) {
            None => Value::Null,
            Some(t) => Value::String(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
        },
        JType::Bytes => match v {
            Value::Null => Value::Null,
            Value::String(s) => Value::String(s.clone()),
            other => Value::String(base64::engine::general_purpose::STANDARD.encode(plain(other))),
        },
        JType::List(inner) => match v {
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| json(inner, i, variant)).collect())
            }
            Value::Null => Value::Null,
            single => Value::Array(vec![json(inner, single, variant)]),
        },
        JType::Map(inner) => match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), json(inner, x, variant)))
                    .collect(),
            ),
            _ => Value::Null,
        },
        JType::Class(name, args) => class_json(name, args, v, variant),
        JType::Var(_) | JType::Any => v.clone(),
    }
}

fn class_json(name: &str, args: &[JType], v: &Value, variant: Variant) -> Value {
    let reg = Registry::get();
    let Value::Object(bean) = v else {
        return v.clone();
    };
    if reg
        .class(name)
        .is_none_or(|c| c.fields.is_empty() && c.extends.is_none())
    {
        // A class the tables do not describe (JPA entities written as beans,
        // json-lib objects, manager beans): written as given.
        return v.clone();
    }
    let mut out = Map::new();
    for f in reg.fields_shared(name, args, variant).iter() {
        let Some(key) = f.json_name(variant) else {
            continue;
        };
        let value = bean.get(&f.name).unwrap_or(&Value::Null);
        out.insert(key.to_owned(), json(&f.ty, value, variant));
    }
    Value::Object(out)
}

fn scalar(s: Scalar, v: &Value) -> Option<Value> {
    match (s, v) {
        (_, Value::Null) => None,
        (Scalar::Bool, Value::Bool(_)) => Some(v.clone()),
        (Scalar::Bool, Value::String(x)) => {
            Some(Value::Bool(matches!(x.as_str(), "true" | "1" | "Y" | "y")))
        }
        (Scalar::Bool, Value::Number(n)) => Some(Value::Bool(n.as_i64() != Some(0))),
        (Scalar::Int, Value::Number(n)) => Some(n.as_i64().map_or_else(
            || Value::from(n.as_f64().unwrap_or(0.0) as i64),
            Value::from,
        )),
        (Scalar::Int, Value::String(x)) => x.trim().parse::<i64>().ok().map(Value::from),
        (Scalar::Int, Value::Bool(b)) => Some(Value::from(i64::from(*b))),
        (Scalar::Float, Value::Number(n)) => n.as_f64().map(Value::from),
        (Scalar::Float, Value::String(x)) => x.trim().parse::<f64>().ok().map(Value::from),
        _ => None,
    }
}

fn zero(s: Scalar) -> Value {
    match s {
        Scalar::Int => Value::from(0),
        Scalar::Float => Value::from(0.0),
        Scalar::Bool => Value::Bool(false),
    }
}

/// A scalar as text.
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Jackson 2.9's `StdDateFormat` in UTC, as Juno writes `java.util.Date`.
pub fn juno_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// JAXB's `xs:dateTime` in the server zone (UTC): milliseconds only when
/// not zero.
pub fn xml_date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        .replace(".000Z", "Z")
}

/// Why a value cannot be written as XML: CXF finds no writer for the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoXmlWriter(pub String);

/// A whole XML document for a value of `ty`, as CXF's JAXBElementProvider
/// writes it: only JAXB root classes (and lists of them) have a writer.
pub fn xml_document(ty: &JType, v: &Value, variant: Variant) -> Result<String, NoXmlWriter> {
    let reg = Registry::get();
    let head = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
    match ty {
        JType::Class(name, args) => {
            let root = reg
                .class(name)
                .and_then(|c| c.xml_root.clone())
                .ok_or_else(|| NoXmlWriter(name.clone()))?;
            let mut out = String::from(head);
            element(&mut out, &root, ty, v, variant, false);
            let _ = args;
            Ok(out)
        }
        JType::List(inner) => {
            let Some(name) = inner.class() else {
                return Err(NoXmlWriter(java_name(ty)));
            };
            let root = reg
                .class(name)
                .and_then(|c| c.xml_root.clone())
                .ok_or_else(|| NoXmlWriter(java_name(ty)))?;
            let mut out = format!("{head}<{root}s>");
            if let Value::Array(items) = v {
                for i in items {
                    element(&mut out, &root, inner, i, variant, false);
                }
            }
            out.push_str(&format!("</{root}s>"));
            Ok(out)
        }
        other => Err(NoXmlWriter(java_name(other))),
    }
}

/// The Java class name CXF puts in "No message body writer" messages.
pub fn java_name(ty: &JType) -> String {
    match ty {
        JType::Primitive(Scalar::Int) | JType::Boxed(Scalar::Int) => "java.lang.Integer".into(),
        JType::Primitive(Scalar::Float) | JType::Boxed(Scalar::Float) => "java.lang.Double".into(),
        JType::Primitive(Scalar::Bool) | JType::Boxed(Scalar::Bool) => "java.lang.Boolean".into(),
        JType::Str => "java.lang.String".into(),
        JType::List(_) => "java.util.ArrayList".into(),
        JType::Map(_) => "java.util.HashMap".into(),
        JType::Class(n, _) => n.clone(),
        _ => "java.lang.Object".into(),
    }
}

/// Appends `<name>...</name>` for a value of `ty`; nulls are omitted.
fn element(out: &mut String, name: &str, ty: &JType, v: &Value, variant: Variant, typed: bool) {
    if v.is_null() && !matches!(ty, JType::Primitive(_) | JType::Char { primitive: true }) {
        return;
    }
    match ty {
        JType::List(inner) => {
            if let Value::Array(items) = v {
                for i in items {
                    element(out, name, inner, i, variant, typed);
                }
            }
        }
        JType::Class(cname, args) if Registry::get().class(cname).is_some() => {
            let Value::Object(bean) = v else {
                return;
            };
            let reg = Registry::get();
            let mut fields: Vec<_> = reg
                .fields(cname, args, variant)
                .into_iter()
                .filter_map(|f| f.xml.clone().map(|x| (x, f)))
                .collect();
            // JAXB writes the superclass's properties first; each class's own
            // getter-bound ones sorted, field-bound ones as declared.
            if reg.class(cname).is_some_and(|c| c.xml_alphabetical) {
                let own: std::collections::HashSet<String> = reg
                    .class(cname)
                    .map(|c| c.fields.iter().map(|f| f.name.clone()).collect())
                    .unwrap_or_default();
                let (mine, inherited): (Vec<_>, Vec<_>) =
                    fields.into_iter().partition(|(_, f)| own.contains(&f.name));
                let mut inherited = inherited;
                let mut mine = mine;
                inherited.sort_by(|a, b| a.0.cmp(&b.0));
                mine.sort_by(|a, b| a.0.cmp(&b.0));
                fields = inherited.into_iter().chain(mine).collect();
            }
            if typed {
                out.push_str(&format!(
                    "<{name} xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"{}\">",
                    decapitalize(cname)
                ));
            } else {
                out.push_str(&format!("<{name}>"));
            }
            for (xml_name, f) in fields {
                let value = bean.get(&f.name).unwrap_or(&Value::Null);
                let typed_items = matches!(&f.ty, JType::List(_)) && xml_name == "Item";
                element(out, &xml_name, &f.ty, value, variant, typed_items);
            }
            out.push_str(&format!("</{name}>"));
        }
        JType::Class(..) | JType::Any | JType::Var(_) | JType::Map(_) => {
            free_element(out, name, v);
        }
        _ => {
            let text = xml_scalar(ty, v);
            if text.is_empty() {
                out.push_str(&format!("<{name}></{name}>"));
            } else {
                out.push_str(&format!("<{name}>{}</{name}>", xml_escape(&text)));
            }
        }
    }
}

/// An untyped JSON value as XML elements (classes the tables do not describe).
fn free_element(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.iter().for_each(|i| free_element(out, name, i)),
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                free_element(out, k, &m[k]);
            }
            out.push_str(&format!("</{name}>"));
        }
        other => out.push_str(&format!("<{name}>{}</{name}>", xml_escape(&plain(other)))),
    }
}

fn xml_scalar(ty: &JType, v: &Value) -> String {
    match ty {
        JType::Date => instant(v).map(xml_date).unwrap_or_default(),
        JType::LocalDate => instant(v)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        JType::LocalDateTime => instant(v)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default(),
        JType::Char { .. } => plain(v)
            .chars()
            .next()
            .map_or_else(|| "0".to_owned(), |c| (c as u32).to_string()),
        JType::Primitive(s) | JType::Boxed(s) => match scalar(*s, v).unwrap_or_else(|| zero(*s)) {
            Value::Number(n) if *s == Scalar::Float => {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 {
                    format!("{f:.1}")
                } else {
                    f.to_string()
                }
            }
            other => plain(&other),
        },
        JType::Bytes => match v {
            Value::String(s) => s.clone(),
            other => base64::engine::general_purpose::STANDARD.encode(plain(other)),
        },
        _ => plain(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn primitives_are_never_null_and_dates_follow_the_variant() {
        let bean = json!({"success": null, "message": "x"});
        let t = JType::parse("GenericRESTResponse");
        assert_eq!(
            json(&t, &bean, Variant::OpenO),
            json!({"success": false, "message": "x"})
        );
        let d = JType::Date;
        let v = json!("2025-07-15");
        assert_eq!(json(&d, &v, Variant::OpenO), json!(1_752_537_600_000_i64));
        assert_eq!(
            json(&d, &v, Variant::Juno),
            json!("2025-07-15T00:00:00.000+0000")
        );
    }

    #[test]
    fn oscar_search_response_is_a_list_of_typed_items() {
        let t = JType::parse("OscarSearchResponse<DemographicMergedTo1>");
        let v = json!({"offset": 0, "limit": 0, "total": 0, "timestamp": "2025-09-11T12:53:20.208Z", "content": []});
        let x = xml_document(&t, &v, Variant::OpenO).unwrap();
        assert!(x.ends_with("<List><limit>0</limit><offset>0</offset><timestamp>2025-09-11T12:53:20.208Z</timestamp><total>0</total></List>"), "{x}");
    }

    #[test]
    fn a_character_is_its_code_point_in_xml() {
        let t = JType::parse("PharmacyInfoTo1");
        let v = json!({"id": 8, "name": "HealthShield Pharmacy", "status": "0"});
        let x = xml_document(&t, &v, Variant::OpenO).unwrap();
        assert!(x.contains("<status>48</status>"), "{x}");
        assert!(x.contains("<pharmacyInfoTo1><id>8</id><name>"), "{x}");
    }

    #[test]
    fn no_writer_for_a_bare_integer_in_xml() {
        assert_eq!(
            xml_document(&JType::parse("int"), &json!(3), Variant::OpenO),
            Err(NoXmlWriter("java.lang.Integer".into()))
        );
    }
}
