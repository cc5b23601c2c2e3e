//! What CXF hands a resource method: path and query parameters converted
//! to their declared Java types (a value that does not convert is JAX-RS's
//! 404), and the body read by the JSON provider into the declared class
//! (a body that does not parse is the provider's exception).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::render::{instant, plain};
use super::types::{JType, Registry, Scalar};
use crate::oscar::oauth1::params::pairs;
use crate::oscar::oauth1::signature::form_decode;

/// A declared parameter: `demographicNo:Integer=20`.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub ty: JType,
    pub default: Option<String>,
}

/// Parses a `query_params`/`path_params` cell of the operation table.
pub fn declared(cell: &str) -> Vec<Param> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    let mut items = Vec::new();
    for (i, c) in cell.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&cell[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&cell[start..]);
    for item in items {
        let item = item.trim();
        if item.is_empty() || item == "-" {
            continue;
        }
        let (name, rest) = item.split_once(':').unwrap_or((item, "String"));
        let rest = rest.split(" (").next().unwrap_or(rest);
        let (ty, default) = match rest.split_once('=') {
            Some((t, d)) => (t, Some(d.trim().to_owned())),
            None => (rest, None),
        };
        out.push(Param {
            name: name.trim().to_owned(),
            ty: JType::parse(ty),
            default,
        });
    }
    out
}

/// A parameter value that does not convert to its declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParam(pub String);

/// Converts raw values to the declared type as CXF's `InjectionUtils`
/// does: absent or empty numbers are null (zero for primitives), booleans
/// are `Boolean.valueOf`, lists keep every value.
pub fn convert(p: &Param, raw: &[String]) -> Result<Value, BadParam> {
    let first = raw.first().cloned().or_else(|| p.default.clone());
    match &p.ty {
        JType::List(inner) => raw
            .iter()
            .map(|r| {
                convert(
                    &Param {
                        name: p.name.clone(),
                        ty: (**inner).clone(),
                        default: None,
                    },
                    std::slice::from_ref(r),
                )
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        JType::Primitive(s) | JType::Boxed(s) => {
            let primitive = matches!(p.ty, JType::Primitive(_));
            match first.as_deref().map(str::trim) {
                None | Some("") => Ok(match (primitive, s) {
                    (false, _) => Value::Null,
                    (true, Scalar::Int) => Value::from(0),
                    (true, Scalar::Float) => Value::from(0.0),
                    (true, Scalar::Bool) => Value::Bool(false),
                }),
                Some(v) => match s {
                    Scalar::Bool => Ok(Value::Bool(v.eq_ignore_ascii_case("true"))),
                    Scalar::Int => v
                        .parse::<i64>()
                        .map(Value::from)
                        .map_err(|_| BadParam(format!("{}={v}", p.name))),
                    Scalar::Float => v
                        .parse::<f64>()
                        .map(Value::from)
                        .map_err(|_| BadParam(format!("{}={v}", p.name))),
                },
            }
        }
        _ => Ok(first.map_or(Value::Null, Value::String)),
    }
}

/// Query (or form) pairs, decoded as the servlet container decodes them.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    pairs(query)
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect()
}

/// Every value of `name`.
pub fn values(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// Why a JSON body was refused by the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON at all: `JsonParseException`.
    Parse(String),
    /// JSON that does not bind to the declared class: `JsonMappingException`
    /// (Jackson 2: `InvalidFormatException`).
    Mapping(String),
}

/// Reads a JSON body into a bean of `ty`: dates normalised to RFC 3339,
/// numbers and booleans checked against the declared property types.
/// Unknown properties are kept (the providers are lenient about them).
pub fn read_json(ty: &JType, bytes: &[u8]) -> Result<Value, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        // Jackson 2's provider allows empty input and passes null.
        return Ok(Value::Null);
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| BodyError::Parse(e.to_string()))?;
    bind(ty, v, "")
}

fn bind(ty: &JType, v: Value, at: &str) -> Result<Value, BodyError> {
    if v.is_null() {
        return Ok(v);
    }
    let mismatch = |what: &str, v: &Value| {
        BodyError::Mapping(format!(
            "Can not construct instance of {what} from {} value ({}) at `{}`",
            kind(v),
            plain(v),
            if at.is_empty() { "$" } else { at }
        ))
    };
    match ty {
        JType::Primitive(s) | JType::Boxed(s) => match (s, &v) {
            (Scalar::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(v),
            (Scalar::Int, Value::Number(n)) => Ok(Value::from(n.as_f64().unwrap_or(0.0) as i64)),
            (Scalar::Int, Value::String(s)) if s.trim().is_empty() => Ok(Value::Null),
            (Scalar::Int, Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| mismatch("java.lang.Integer", &v)),
            (Scalar::Float, Value::Number(_)) => Ok(v),
            (Scalar::Float, Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map(Value::from)
                .map_err(|_| mismatch("java.lang.Double", &v)),
            (Scalar::Bool, Value::Bool(_)) => Ok(v),
            (Scalar::Bool, Value::String(s)) if s == "true" || s == "false" => {
                Ok(Value::Bool(s == "true"))
            }
            (Scalar::Bool, Value::Number(n)) => Ok(Value::Bool(n.as_i64() != Some(0))),
            _ => Err(mismatch(
                match s {
                    Scalar::Int => "java.lang.Integer",
                    Scalar::Float => "java.lang.Double",
                    Scalar::Bool => "java.lang.Boolean",
                },
                &v,
            )),
        },
        JType::Date | JType::LocalDate | JType::LocalDateTime => match &v {
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            _ => instant(&v)
                .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
                .ok_or_else(|| mismatch("java.util.Date", &v)),
        },
        JType::Str | JType::Char { .. } => match &v {
            Value::Object(_) | Value::Array(_) => Err(mismatch("java.lang.String", &v)),
            other => Ok(Value::String(plain(other))),
        },
        JType::List(inner) => match v {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, x)| bind(inner, x, &format!("{at}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => Err(mismatch("java.util.ArrayList", &other)),
        },
        JType::Class(name, args) if Registry::get().class(name).is_some() => match v {
            Value::Object(m) => {
                let fields: BTreeMap<String, JType> = Registry::get()
                    .fields(name, args, super::Variant::OpenO)
                    .into_iter()
                    .chain(Registry::get().fields(name, args, super::Variant::Oscar19))
                    .map(|f| (f.name.clone(), f.ty))
                    .collect();
                let mut out = Map::new();
                for (k, x) in m {
                    let bound = match fields.get(&k) {
                        Some(t) => bind(t, x, &format!("{at}.{k}"))?,
                        None => x,
                    };
                    out.insert(k, bound);
                }
                Ok(Value::Object(out))
            }
            other => Err(mismatch(name, &other)),
        },
        _ => Ok(v),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "String",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_params_parse() {
        let p = declared("numToReturn:Integer=20, offset:Integer=0, includes[]:List<String>");
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].default.as_deref(), Some("20"));
        assert_eq!(p[2].name, "includes[]");
        assert!(p[2].ty.is_list());
    }

    #[test]
    fn conversion_follows_the_java_type() {
        let int = Param {
            name: "n".into(),
            ty: JType::parse("int"),
            default: None,
        };
        let boxed = Param {
            name: "n".into(),
            ty: JType::parse("Integer"),
            default: None,
        };
        assert_eq!(convert(&int, &[]).unwrap(), json!(0));
        assert_eq!(convert(&boxed, &[]).unwrap(), json!(null));
        assert_eq!(convert(&boxed, &["12".into()]).unwrap(), json!(12));
        assert!(convert(&boxed, &["twelve".into()]).is_err());
    }

    #[test]
    fn bodies_bind_to_their_class() {
        let t = JType::parse("DemographicTo1");
        let v = read_json(
            &t,
            br#"{"dateOfBirth":"1985-05-20","demographicNo":"7","extra":1}"#,
        )
        .unwrap();
        assert_eq!(v["dateOfBirth"], "1985-05-20T00:00:00.000Z");
        assert_eq!(v["demographicNo"], 7);
        assert!(matches!(
            read_json(&t, br#"{"demographicNo":"x"}"#),
            Err(BodyError::Mapping(_))
        ));
        assert!(matches!(read_json(&t, b"{nope"), Err(BodyError::Parse(_))));
        assert_eq!(read_json(&t, b"  ").unwrap(), Value::Null);
    }
}
