//! Matchers: what an expectation requires of a value.
//!
//! In YAML a scalar or a sequence means "equals"; a mapping lists
//! operators, all of which must hold:
//!
//! ```yaml
//! $.firstName: Jordan                  # equals
//! $.hin: {matches: '^\d{10}$'}
//! $.content: {type: array, length: 3}
//! $.middleName: {exists: false}
//! ```

use std::borrow::Borrow;
use std::fmt;

use regex::Regex;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::template::{display, render_json, TemplateError};
use super::vars::Vars;

/// JSON types, as `type:` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Null,
    Array,
    Object,
}

impl JsonType {
    fn parse(s: &str) -> Option<JsonType> {
        Some(match s {
            "string" => JsonType::String,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "boolean" => JsonType::Boolean,
            "null" => JsonType::Null,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            _ => return None,
        })
    }

    pub fn of(v: &Value) -> JsonType {
        match v {
            Value::String(_) => JsonType::String,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::Bool(_) => JsonType::Boolean,
            Value::Null => JsonType::Null,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    fn accepts(self, v: &Value) -> bool {
        let actual = JsonType::of(v);
        actual == self || (self == JsonType::Number && actual == JsonType::Integer)
    }

    pub fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::Boolean => "boolean",
            JsonType::Null => "null",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }
}

/// A compiled regular expression that remembers its source.
#[derive(Clone)]
pub struct Pattern(pub Regex);

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Regex::new(&s)
            .map(Pattern)
            .map_err(|e| de::Error::custom(format!("invalid regex `{s}`: {e}")))
    }
}

/// One operator of a matcher.
#[derive(Debug, Clone)]
pub enum Op {
    Equals(Value),
    NotEquals(Value),
    Contains(Value),
    NotContains(Value),
    Matches(Pattern),
    Type(JsonType),
    Exists(bool),
    Length(usize),
    Count(usize),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    OneOf(Vec<Value>),
}

pub const OPERATORS: &[&str] = &[
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "matches",
    "type",
    "exists",
    "length",
    "count",
    "gt",
    "gte",
    "lt",
    "lte",
    "one_of",
];

/// All of its operators must hold.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub ops: Vec<Op>,
}

impl Matcher {
    pub fn equals(v: Value) -> Matcher {
        Matcher {
            ops: vec![Op::Equals(v)],
        }
    }

    /// Expected values that may hold templates, for load-time checks.
    pub fn expected_values(&self) -> impl Iterator<Item = &Value> {
        self.ops
            .iter()
            .flat_map(|op| -> Box<dyn Iterator<Item = &Value>> {
                match op {
                    Op::Equals(v) | Op::NotEquals(v) | Op::Contains(v) | Op::NotContains(v) => {
                        Box::new(std::iter::once(v))
                    }
                    Op::OneOf(vs) => Box::new(vs.iter()),
                    _ => Box::new(std::iter::empty()),
                }
            })
    }

    /// Checks the values a source selected (JSON path nodes, borrowed
    /// from the parsed body; header values; or the body). `text` compares
    /// scalars as text, as headers and raw bodies are.
    pub fn check<V: Borrow<Value>>(
        &self,
        nodes: &[V],
        vars: &Vars,
        text: bool,
    ) -> Result<(), Mismatch> {
        for op in &self.ops {
            check_op(op, nodes, vars, text)?;
        }
        Ok(())
    }
}

/// Why a matcher failed: a sentence, and optionally the two sides for a diff.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub message: String,
    /// Expected and actual values, boxed: failures are rare, results common.
    pub sides: Option<Box<(Value, Value)>>,
}

impl Mismatch {
    fn new(message: impl Into<String>) -> Mismatch {
        Mismatch {
            message: message.into(),
            sides: None,
        }
    }

    fn sides(message: impl Into<String>, expected: &Value, actual: &Value) -> Mismatch {
        Mismatch {
            message: message.into(),
            sides: Some(Box::new((expected.clone(), actual.clone()))),
        }
    }
}

impl From<TemplateError> for Mismatch {
    fn from(e: TemplateError) -> Mismatch {
        Mismatch::new(e.to_string())
    }
}

fn one<'a, V: Borrow<Value>>(nodes: &'a [V], what: &str) -> Result<&'a Value, Mismatch> {
    match nodes {
        [v] => Ok(v.borrow()),
        [] => Err(Mismatch::new(format!("{what}: nothing matched"))),
        many => Err(Mismatch::new(format!(
            "{what}: {} values matched where one was expected (use `count`, or a more precise path)",
            many.len()
        ))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

fn same(expected: &Value, actual: &Value, text: bool) -> bool {
    if text {
        return display(expected) == display(actual);
    }
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, false))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| same(x, y, false)))
        }
        (a, b) => a == b,
    }
}

fn contains(haystack: &Value, needle: &Value, text: bool) -> bool {
    match haystack {
        Value::String(s) => s.contains(&display(needle)),
        Value::Array(items) => items.iter().any(|i| same(needle, i, text)),
        Value::Object(m) => match needle {
            // An object contains another when it has all of its fields.
            Value::Object(sub) => sub
                .iter()
                .all(|(k, v)| m.get(k).is_some_and(|x| same(v, x, text))),
            Value::String(key) => m.contains_key(key),
            _ => false,
        },
        other => display(other).contains(&display(needle)),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn check_op<V: Borrow<Value>>(
    op: &Op,
    nodes: &[V],
    vars: &Vars,
    text: bool,
) -> Result<(), Mismatch> {
    match op {
        Op::Exists(want) => {
            let found = !nodes.is_empty();
            if found != *want {
                return Err(Mismatch::new(if *want {
                    "expected it to exist, but nothing matched".to_owned()
                } else {
                    format!("expected nothing, found {}", short(nodes[0].borrow()))
                }));
            }
        }
        Op::Count(n) => {
            if nodes.len() != *n {
                return Err(Mismatch::new(format!(
                    "expected {n} matches, found {}",
                    nodes.len()
                )));
            }
        }
        Op::Equals(expected) => {
            let expected = render_json(expected, vars)?;
            let actual = one(nodes, "equals")?;
            if !same(&expected, actual, text) {
                return Err(Mismatch::sides(
                    format!("expected {}, got {}", short(&expected), short(actual)),
                    &expected,
                    actual,
                ));
            }
        }
        Op::NotEquals(expected) => {
            let expected = render_json(expected, vars)?;
            let actual = one(nodes, "not_equals")?;
            if same(&expected, actual, text) {
                return Err(Mismatch::new(format!(
                    "expected anything but {}",
                    short(actual)
                )));
            }
        }
        Op::Contains(needle) => {
            let needle = render_json(needle, vars)?;
            let actual = one(nodes, "contains")?;
            if !contains(actual, &needle, text) {
                return Err(Mismatch::sides(
                    format!("expected {} to contain {}", short(actual), short(&needle)),
                    &needle,
                    actual,
                ));
            }
        }
        Op::NotContains(needle) => {
            let needle = render_json(needle, vars)?;
            let actual = one(nodes, "not_contains")?;
            if contains(actual, &needle, text) {
                return Err(Mismatch::new(format!(
                    "expected {} not to contain {}",
                    short(actual),
                    short(&needle)
                )));
            }
        }
        Op::Matches(Pattern(re)) => {
            let actual = one(nodes, "matches")?;
            let s = display(actual);
            if !re.is_match(&s) {
                return Err(Mismatch::new(format!(
                    "expected {} to match /{}/",
                    short(actual),
                    re.as_str()
                )));
            }
        }
        Op::Type(t) => {
            let actual = one(nodes, "type")?;
            if !t.accepts(actual) {
                return Err(Mismatch::new(format!(
                    "expected a {}, got a {} ({})",
                    t.name(),
                    JsonType::of(actual).name(),
                    short(actual)
                )));
            }
        }
        Op::Length(n) => {
            let actual = one(nodes, "length")?;
            let len = match actual {
                Value::Array(a) => a.len(),
                Value::Object(m) => m.len(),
                Value::String(s) => s.chars().count(),
                other => {
                    return Err(Mismatch::new(format!(
                        "length needs an array, object or string, got {}",
                        short(other)
                    )))
                }
            };
            if len != *n {
                return Err(Mismatch::new(format!("expected length {n}, got {len}")));
            }
        }
        Op::Gt(x) | Op::Gte(x) | Op::Lt(x) | Op::Lte(x) => {
            let actual = one(nodes, "comparison")?;
            let Some(a) = number(actual) else {
                return Err(Mismatch::new(format!(
                    "expected a number, got {}",
                    short(actual)
                )));
            };
            let (ok, word) = match op {
                Op::Gt(_) => (a > *x, ">"),
                Op::Gte(_) => (a >= *x, ">="),
                Op::Lt(_) => (a < *x, "<"),
                _ => (a <= *x, "<="),
            };
            if !ok {
                return Err(Mismatch::new(format!("expected {word} {x}, got {a}")));
            }
        }
        Op::OneOf(options) => {
            let actual = one(nodes, "one_of")?;
            let mut rendered = Vec::with_capacity(options.len());
            for o in options {
                rendered.push(render_json(o, vars)?);
            }
            if !rendered.iter().any(|o| same(o, actual, text)) {
                return Err(Mismatch::new(format!(
                    "expected one of {}, got {}",
                    short(&Value::Array(rendered)),
                    short(actual)
                )));
            }
        }
    }
    Ok(())
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MatcherVisitor)
    }
}

struct MatcherVisitor;

fn yaml_to_json<E: de::Error>(v: serde_yaml::Value) -> Result<Value, E> {
    serde_json::to_value(v).map_err(|e| E::custom(format!("not representable as JSON: {e}")))
}

impl<'de> Visitor<'de> for MatcherVisitor {
    type Value = Matcher;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "a value to compare with, or a map of operators (equals, matches, type, exists, ...)",
        )
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Matcher, E> {
        Ok(Matcher::equals(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Matcher, E> {
        Ok(Matcher::equals(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Matcher, E> {
        Ok(Matcher::equals(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Matcher, E> {
        Ok(Matcher::equals(Value::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Matcher, E> {
        Ok(Matcher::equals(Value::String(v.to_owned())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Matcher, E> {
        Ok(Matcher::equals(Value::Null))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Matcher, A::Error> {
        let v: serde_yaml::Value =
            Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Matcher::equals(yaml_to_json(v)?))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Matcher, A::Error> {
        let mut ops = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = |v: serde_yaml::Value| yaml_to_json::<A::Error>(v);
            let op = match key.as_str() {
                "equals" => Op::Equals(value(map.next_value()?)?),
                "not_equals" => Op::NotEquals(value(map.next_value()?)?),
                "contains" => Op::Contains(value(map.next_value()?)?),
                "not_contains" => Op::NotContains(value(map.next_value()?)?),
                "matches" => Op::Matches(map.next_value()?),
                "type" => {
                    let name: String = map.next_value()?;
                    Op::Type(JsonType::parse(&name).ok_or_else(|| {
                        de::Error::invalid_value(
                            de::Unexpected::Str(&name),
                            &"one of string, number, integer, boolean, null, array, object",
                        )
                    })?)
                }
                "exists" => Op::Exists(map.next_value()?),
                "length" => Op::Length(map.next_value()?),
                "count" => Op::Count(map.next_value()?),
                "gt" => Op::Gt(map.next_value()?),
                "gte" => Op::Gte(map.next_value()?),
                "lt" => Op::Lt(map.next_value()?),
                "lte" => Op::Lte(map.next_value()?),
                "one_of" => {
                    let vs: Vec<serde_yaml::Value> = map.next_value()?;
                    Op::OneOf(vs.into_iter().map(value).collect::<Result<_, _>>()?)
                }
                other => return Err(de::Error::unknown_field(other, OPERATORS)),
            };
            ops.push(op);
        }
        if ops.is_empty() {
            return Err(de::Error::custom(
                "an empty map is not a matcher; write `{equals: {}}` to compare with an empty object",
            ));
        }
        Ok(Matcher { ops })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(yaml: &str) -> Matcher {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn ok(yaml: &str, node: Value) -> Result<(), Mismatch> {
        m(yaml).check(&[node], &Vars::default(), false)
    }

    #[test]
    fn scalars_and_sequences_mean_equals() {
        assert!(ok("Jordan", json!("Jordan")).is_ok());
        assert!(ok("42", json!(42.0)).is_ok());
        assert!(ok("[1, 2]", json!([1, 2])).is_ok());
        let e = ok("Jordan", json!("Jordon")).unwrap_err();
        assert_eq!(e.message, "expected \"Jordan\", got \"Jordon\"");
    }

    #[test]
    fn every_operator_passes_and_fails() {
        let cases: &[(&str, Value, Value)] = &[
            ("{not_equals: a}", json!("b"), json!("a")),
            ("{contains: ell}", json!("hello"), json!("world")),
            ("{contains: 2}", json!([1, 2]), json!([1, 3])),
            (
                "{contains: {a: 1}}",
                json!({"a": 1, "b": 2}),
                json!({"b": 2}),
            ),
            ("{not_contains: x}", json!("abc"), json!("xyz")),
            (
                "{matches: '^\\d{10}$'}",
                json!("1234567890"),
                json!("12345"),
            ),
            ("{type: string}", json!("s"), json!(1)),
            ("{type: number}", json!(1), json!("1")),
            ("{type: integer}", json!(1), json!(1.5)),
            ("{type: array}", json!([]), json!({})),
            ("{length: 2}", json!([1, 2]), json!([1])),
            ("{gt: 3}", json!(4), json!(3)),
            ("{gte: 3}", json!(3), json!(2)),
            ("{lt: 3}", json!(2), json!(3)),
            ("{lte: 3}", json!("3"), json!(4)),
            ("{one_of: [a, b]}", json!("b"), json!("c")),
        ];
        for (yaml, pass, fail) in cases {
            assert!(
                ok(yaml, pass.clone()).is_ok(),
                "{yaml} should pass on {pass}"
            );
            assert!(
                ok(yaml, fail.clone()).is_err(),
                "{yaml} should fail on {fail}"
            );
        }
    }

    #[test]
    fn exists_and_count_look_at_the_selection() {
        let vars = Vars::default();
        assert!(m("{exists: false}")
            .check::<Value>(&[], &vars, false)
            .is_ok());
        assert!(m("{exists: true}")
            .check::<Value>(&[], &vars, false)
            .is_err());
        assert!(m("{count: 2}")
            .check(&[json!(1), json!(2)], &vars, false)
            .is_ok());
        let e = m("x")
            .check(&[json!(1), json!(2)], &vars, false)
            .unwrap_err();
        assert!(e.message.contains("2 values matched"), "{}", e.message);
    }

    #[test]
    fn text_mode_compares_as_text() {
        let vars = Vars::default();
        assert!(m("42").check(&[json!("42")], &vars, true).is_ok());
        assert!(m("42").check(&[json!("42")], &vars, false).is_err());
    }

    #[test]
    fn expected_values_interpolate() {
        let mut vars = Vars::default();
        vars.set("id", json!(7));
        assert!(m("'{{id}}'").check(&[json!(7)], &vars, false).is_ok());
    }

    #[test]
    fn bad_matchers_are_load_errors() {
        let e = serde_yaml::from_str::<Matcher>("{equal: 1}").unwrap_err();
        assert!(e.to_string().contains("unknown field `equal`"), "{e}");
        let e = serde_yaml::from_str::<Matcher>("{type: text}").unwrap_err();
        assert!(e.to_string().contains("one of string"), "{e}");
        let e = serde_yaml::from_str::<Matcher>("{matches: '('}").unwrap_err();
        assert!(e.to_string().contains("invalid regex"), "{e}");
    }
}
