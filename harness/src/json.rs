//! Reading JSON bodies in one pass of serde_json's parser, building no
//! more than is read.
//!
//! Most steps read a few fields of a body (`$.data.uuid`, `$.total`), and
//! building a `serde_json::Value` of the whole body (a map, a hash and an
//! allocation per member) cost several times the parse itself. A
//! [`Singular`] path is picked straight out of the text ([`pick`]): only
//! the nodes asked for become trees; [`member_strings`] walks a body for
//! its tokens with no tree at all; and [`tree`] builds a whole one with
//! each object sized once. Every walk goes through serde_json's own
//! `deserialize_any` ([`walk`]), so each accepts exactly what
//! `serde_json::from_slice` accepts (numbers in range, the nesting limit,
//! escapes); [`parse`] asks `from_slice` why a body that is not JSON is
//! not.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// The `Visitor` methods of a walk over any value that reads nothing
/// from a number, a boolean or a null (each walk says what it does with
/// text).
macro_rules! ignore_scalars_but_text {
    () => {
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }
    };
}

/// One step of a [`Singular`] path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    Index(usize),
}

/// A JSONPath made only of member names and non-negative indexes
/// (`$.data[0].uuid`, `$['/api/patient']`), naming at most one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Singular(Vec<Segment>);

impl Singular {
    /// `source` as a singular path, if it is written as one: dot names,
    /// quoted names without escapes, and indexes, with no white space.
    /// Any other path (wildcards, filters, slices, negative indexes,
    /// descendants) is `None`, and is answered on the whole tree.
    pub fn parse(source: &str) -> Option<Singular> {
        let mut rest = source.strip_prefix('$')?;
        let mut segments = Vec::new();
        while !rest.is_empty() {
            let (segment, after) = if let Some(r) = rest.strip_prefix('.') {
                dot_name(r)?
            } else {
                bracketed(rest.strip_prefix('[')?)?
            };
            segments.push(segment);
            rest = after;
        }
        Some(Singular(segments))
    }

    /// The node this path names in a parsed tree (the tests' reference
    /// for what a pick finds).
    #[cfg(test)]
    pub fn get<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        below(doc, &self.0)
    }
}

/// RFC 9535's `member-name-shorthand`: a name-first character (a letter,
/// `_` or any non-ASCII character), then those or digits.
fn dot_name(s: &str) -> Option<(Segment, &str)> {
    let is_first = |c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(is_first(c) || (i > 0 && c.is_ascii_digit())))
        .map_or(s.len(), |(i, _)| i);
    (end > 0).then(|| (Segment::Name(s[..end].to_owned()), &s[end..]))
}

/// `'name']`, `"name"]` (without escapes) or `index]`, after the `[`.
fn bracketed(s: &str) -> Option<(Segment, &str)> {
    let quote = s.chars().next()?;
    if quote == '\'' || quote == '"' {
        let body = &s[1..];
        let end = body.find(quote)?;
        let name = &body[..end];
        let rest = body[end + 1..].strip_prefix(']')?;
        let plain = !name.contains('\\') && !name.chars().any(char::is_control);
        return plain.then(|| (Segment::Name(name.to_owned()), rest));
    }
    let end = s.find(']')?;
    let digits = &s[..end];
    let canonical = digits == "0" || (!digits.starts_with('0') && !digits.is_empty());
    if !canonical || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((Segment::Index(digits.parse().ok()?), &s[end + 1..]))
}

fn below<'v>(mut node: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    for segment in segments {
        node = match (segment, node) {
            (Segment::Name(n), Value::Object(m)) => m.get(n)?,
            (Segment::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The node each path names in `body`, in the order of `paths`; `None`
/// when the body is not JSON (the whole parse then says why).
///
/// A member that appears twice is read as the whole parse reads it: the
/// last one counts.
pub fn pick(body: &[u8], paths: &[&Singular]) -> Option<Vec<Option<Value>>> {
    let mut found = vec![None; paths.len()];
    let pick = Pick {
        paths,
        live: (0..paths.len()).collect(),
        depth: 0,
        found: &mut found,
    };
    walk(body, pick)?;
    Some(found)
}

/// Runs `seed` over `body` as `serde_json::from_slice` reads a document:
/// the whole of it and nothing after, the text checked as UTF-8 once (a
/// `&str` is not checked again string by string). `None` when the body
/// is not JSON, or the seed refuses it.
pub(crate) fn walk<'b, S: DeserializeSeed<'b>>(body: &'b [u8], seed: S) -> Option<S::Value> {
    let text = std::str::from_utf8(body).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = seed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

/// Paths still followed at a node, by their place in the list.
type Live = Vec<usize>;

/// The walk at one node: the paths that lead through it, all of them at
/// least `depth` segments long.
struct Pick<'p, 'f> {
    paths: &'p [&'p Singular],
    live: Live,
    depth: usize,
    found: &'f mut [Option<Value>],
}

impl<'p> Pick<'p, '_> {
    fn child(&mut self, live: Live) -> Pick<'p, '_> {
        Pick {
            paths: self.paths,
            live,
            depth: self.depth + 1,
            found: &mut *self.found,
        }
    }

    /// The live paths whose next segment is `here`.
    fn next(&self, here: impl Fn(&Segment) -> bool) -> Live {
        let depth = self.depth;
        self.live
            .iter()
            .copied()
            .filter(|&i| self.paths[i].0.get(depth).is_some_and(&here))
            .collect()
    }
}

impl<'de> DeserializeSeed<'de> for Pick<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.live.is_empty() {
            return Skip.deserialize(d);
        }
        // A later duplicate of this member replaces what an earlier one
        // gave, as in the whole tree.
        for &i in &self.live {
            self.found[i] = None;
        }
        if !self
            .live
            .iter()
            .any(|&i| self.paths[i].0.len() == self.depth)
        {
            return d.deserialize_any(self);
        }
        // A path ends here: this node is built, and the paths that go on
        // below it are read from it.
        let node = Value::deserialize(d)?;
        let mut ending = None;
        for &i in &self.live {
            let rest = &self.paths[i].0[self.depth..];
            if rest.is_empty() && ending.is_none() {
                ending = Some(i);
            } else {
                self.found[i] = below(&node, rest).cloned();
            }
        }
        if let Some(i) = ending {
            self.found[i] = Some(node);
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for Pick<'_, '_> {
    type Value = ();

    ignore_scalars_but_text!();
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            let live = self.next(|s| *s == Segment::Index(index));
            if seq.next_element_seed(self.child(live))?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(live) = map.next_key_seed(Key(&self))? {
            map.next_value_seed(self.child(live))?;
        }
        Ok(())
    }
}

/// A value no one reads, parsed to its end as serde_json parses any
/// value (`IgnoredAny` would skip it faster, but take numbers out of range,
/// lone surrogates and nesting beyond the limit, which a whole parse
/// refuses).
pub(crate) struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    ignore_scalars_but_text!();
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// A value that may be text: the text (borrowed unless it has escapes),
/// or `None` for any other value, which is parsed to its end.
pub(crate) struct MaybeText;

impl<'de> DeserializeSeed<'de> for MaybeText {
    type Value = Option<Name<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MaybeText {
    type Value = Option<Name<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Name::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Name::Owned(s.to_owned())))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip.visit_seq(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Skip.visit_map(map).map(|()| None)
    }
}

/// A member's name, read without copying it: the paths it continues.
struct Key<'a, 'p, 'f>(&'a Pick<'p, 'f>);

impl<'de> DeserializeSeed<'de> for Key<'_, '_, '_> {
    type Value = Live;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Live, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_, '_> {
    type Value = Live;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Live, E> {
        Ok(self.0.next(|s| matches!(s, Segment::Name(n) if n == key)))
    }
}

/// `body` parsed whole, as `serde_json::from_slice` parses it; `None`
/// when it is not JSON.
///
/// The same tree for less: the text is checked as UTF-8 once, not string
/// by string, and each object's members are gathered on one stack and
/// put in a map of their number, instead of a map grown (and rehashed) as
/// they come.
pub fn tree(body: &[u8]) -> Option<Value> {
    walk(
        body,
        Tree {
            members: &mut Vec::new(),
        },
    )
}

/// `body` parsed whole: [`tree`], or serde_json's word on why the body is
/// not JSON.
pub fn parse(body: &[u8]) -> Result<Value, serde_json::Error> {
    tree(body).map_or_else(|| serde_json::from_slice(body), Ok)
}

/// The walk for [`tree`] at one node: the members of the objects open
/// above it, gathered in document order.
struct Tree<'m> {
    members: &'m mut Vec<(String, Value)>,
}

impl<'de> DeserializeSeed<'de> for Tree<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Tree<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(Tree {
            members: &mut *self.members,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let open = self.members.len();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Tree {
                members: &mut *self.members,
            })?;
            self.members.push((key, value));
        }
        // A repeated name keeps its first place and its last value, as
        // `Map::insert` does.
        Ok(Value::Object(self.members.drain(open..).collect()))
    }
}

/// Calls `found(key, value)` for every string that is the value of an
/// object member, wherever it is, without building the tree; `false` when
/// the body is not JSON.
pub fn member_strings(body: &[u8], found: &mut dyn FnMut(&str, &str)) -> bool {
    walk(body, Members { key: None, found }).is_some()
}

/// The walk for [`member_strings`] at one node: the member it is the value
/// of, if any.
struct Members<'k, 'f> {
    key: Option<&'k str>,
    found: &'f mut dyn FnMut(&str, &str),
}

impl<'de> DeserializeSeed<'de> for Members<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Members<'_, '_> {
    type Value = ();

    ignore_scalars_but_text!();
    fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
        if let Some(key) = self.key {
            (self.found)(key, value);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Members {
                key: None,
                found: &mut *self.found,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Names are copied only when they hold escapes; most borrow.
        while let Some(key) = map.next_key::<Name<'de>>()? {
            map.next_value_seed(Members {
                key: Some(key.as_str()),
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }
}

/// A member name, borrowed from the text unless it has escapes.
pub(crate) enum Name<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Name<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Name::Borrowed(s) => s,
            Name::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Name<'de>, E> {
                Ok(Name::Borrowed(s))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Name<'de>, E> {
                Ok(Name::Owned(s.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use serde_json_path::JsonPath;

    #[test]
    fn only_names_and_indexes_are_singular() {
        for s in [
            "$",
            "$.a",
            "$.a_b1[0]['x y']",
            "$[\"k\"][12].é",
            "$['/api/patient'].get",
        ] {
            assert!(Singular::parse(s).is_some(), "{s}");
        }
        for s in [
            "$.*",
            "$..a",
            "$[-1]",
            "$[0:2]",
            "$[01]",
            "$[ 0]",
            "$.a[?@.b]",
            "$['a\\'b']",
            "$.1a",
            "$['a','b']",
            "a",
            "$.",
            "$[]",
        ] {
            assert!(Singular::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn picks_nested_and_overlapping_paths() {
        let body =
            br#"{"data": [{"uuid": "u1", "n": 1.5}, {"uuid": "u2"}], "total": 2, "meta": null}"#;
        let paths: Vec<Singular> = [
            "$.data",
            "$.data[1].uuid",
            "$.total",
            "$.missing",
            "$.data[0].n",
        ]
        .iter()
        .map(|s| Singular::parse(s).unwrap())
        .collect();
        let refs: Vec<&Singular> = paths.iter().collect();
        let got = pick(body, &refs).unwrap();
        assert_eq!(
            got[0],
            Some(json!([{"uuid": "u1", "n": 1.5}, {"uuid": "u2"}]))
        );
        assert_eq!(got[1], Some(json!("u2")));
        assert_eq!(got[2], Some(json!(2)));
        assert_eq!(got[3], None);
        assert_eq!(got[4], Some(json!(1.5)));
    }

    #[test]
    fn the_last_of_duplicate_members_counts() {
        let paths: Vec<Singular> = ["$.a.a", "$.a", "$.b[0]"]
            .iter()
            .map(|s| Singular::parse(s).unwrap())
            .collect();
        let refs: Vec<&Singular> = paths.iter().collect();
        let body = br#"{"a": {"a": 1}, "b": [1], "a": 5, "b": {"0": 2}}"#;
        assert_eq!(pick(body, &refs).unwrap(), [None, Some(json!(5)), None]);
    }

    #[test]
    fn refuses_what_the_whole_parse_refuses() {
        let p = Singular::parse("$.a").unwrap();
        let deep = format!(
            "{{\"a\": 1, \"b\": {}{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        for bad in [
            &b"{\"a\": 1"[..],
            b"{\"a\": 1} x",
            b"{\"a\": 1e999}",
            b"{\"b\": [1e999], \"a\": 1}",
            b"{\"b\": \"\\ud800\", \"a\": 1}",
            b"{\"a\": \"\xff\"}",
            b"{\"b\": \"\\x\", \"a\": 1}",
            deep.as_bytes(),
        ] {
            assert!(serde_json::from_slice::<Value>(bad).is_err());
            assert_eq!(pick(bad, &[&p]), None, "{}", String::from_utf8_lossy(bad));
            assert!(!member_strings(bad, &mut |_, _| {}));
            assert_eq!(tree(bad), None);
        }
    }

    #[test]
    fn the_tree_is_serde_jsons() {
        let body = br#"{"a": [1, -2, 2.5, "x\u00e9", true, null, {}], "b": {"c": 1, "c": 2, "d": []}, "a": 0}"#;
        let want: Value = serde_json::from_slice(body).unwrap();
        let got = tree(body).unwrap();
        assert_eq!(got, want);
        // Member order too (the mock's and the snapshots' order).
        assert_eq!(got.to_string(), want.to_string());
    }

    #[test]
    fn member_strings_sees_every_member_string_and_only_those() {
        let body = br#"{"a": "1", "b": ["2", {"c": "3"}], "d\u0065": {"e": "4", "f": 5}}"#;
        let mut seen = Vec::new();
        assert!(member_strings(body, &mut |k, v| seen.push(format!("{k}={v}"))));
        assert_eq!(seen, ["a=1", "c=3", "e=4"]);
    }

    /// JSON documents of a few levels, with repeated member names.
    fn doc() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            any::<i32>().prop_map(|n| n.to_string()),
            "[a-c]{0,2}".prop_map(|s| format!("\"{s}\"")),
        ];
        leaf.prop_recursive(4, 40, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((prop_oneof![3 => Just("a"), 1 => Just("b")], inner), 0..4)
                    .prop_map(|v| {
                        let members: Vec<String> = v
                            .into_iter()
                            .map(|(k, x)| format!("\"{k}\": {x}"))
                            .collect();
                        format!("{{{}}}", members.join(", "))
                    }),
            ]
        })
    }

    fn path() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![Just(".a"), Just("['b']"), Just("[0]"), Just("[1]")],
            0..4,
        )
        .prop_map(|s| format!("${}", s.concat()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// What a pick finds is what serde_json_path finds on the whole
        /// tree, duplicate members included.
        #[test]
        fn picking_is_querying_the_tree(doc in doc(), paths in prop::collection::vec(path(), 1..4)) {
            let tree: Value = serde_json::from_str(&doc).unwrap();
            prop_assert_eq!(super::tree(doc.as_bytes()).unwrap().to_string(), tree.to_string());
            let singular: Vec<Singular> = paths.iter().map(|p| Singular::parse(p).unwrap()).collect();
            let refs: Vec<&Singular> = singular.iter().collect();
            let got = pick(doc.as_bytes(), &refs).unwrap();
            for ((p, s), got) in paths.iter().zip(&singular).zip(got) {
                let want = JsonPath::parse(p).unwrap().query(&tree).at_most_one().unwrap().cloned();
                prop_assert_eq!(&got, &want, "{}", p);
                prop_assert_eq!(s.get(&tree).cloned(), want);
            }
        }
    }
}
