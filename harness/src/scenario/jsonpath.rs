//! JSONPath's `match()` and `search()` functions (RFC 9535 §2.4.6–2.4.7),
//! with each pattern compiled once.
//!
//! serde_json_path's own compile the pattern again for every node a
//! filter visits: `$.body.eventList[?match(@.reason, '.*check')]` over a
//! calendar of a hundred events built a hundred regexes, and one such check
//! took most of a step's time. A function registered here under the same
//! name is found before the built-in one (serde_json_path looks up
//! `#[function]`s first) and means the same: the whole string for `match`,
//! any part of it for `search`, CRLF line ends, and no match for a pattern
//! that does not compile.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use regex::Regex;
use serde_json::Value;
use serde_json_path::functions::{LogicalType, ValueType};

/// Patterns kept at most; a filter can take its pattern from the document
/// (`match(@.a, @.b)`), so the cache is emptied when full.
const KEPT: usize = 512;

/// Compiled patterns by their full text (anchors included); `None` for
/// one that does not compile.
static COMPILED: Mutex<Option<HashMap<String, Option<Regex>>>> = Mutex::new(None);

/// Whether `s` matches `pattern`, compiled once per pattern.
fn is_match(pattern: String, s: &str) -> bool {
    let mut kept = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
    let kept = kept.get_or_insert_with(HashMap::new);
    if !kept.contains_key(&pattern) && kept.len() >= KEPT {
        kept.clear();
    }
    kept.entry(pattern)
        .or_insert_with_key(|p| Regex::new(p).ok())
        .as_ref()
        .is_some_and(|re| re.is_match(s))
}

/// The two strings a function's arguments must be, if they are.
fn strings<'a>(value: &'a ValueType, pattern: &'a ValueType) -> Option<(&'a str, &'a str)> {
    match (value.as_value()?, pattern.as_value()?) {
        (Value::String(s), Value::String(p)) => Some((s, p)),
        _ => None,
    }
}

/// `match(value, pattern)`: the whole string matches.
#[serde_json_path::function(name = "match")]
fn match_whole(value: ValueType, pattern: ValueType) -> LogicalType {
    strings(&value, &pattern)
        .is_some_and(|(s, p)| is_match(format!("(?R)^({p})$"), s))
        .into()
}

/// `search(value, pattern)`: some part of the string matches.
#[serde_json_path::function(name = "search")]
fn search_part(value: ValueType, pattern: ValueType) -> LogicalType {
    strings(&value, &pattern)
        .is_some_and(|(s, p)| is_match(format!("(?R)({p})"), s))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use serde_json_path::JsonPath;

    fn query(path: &str, doc: &Value) -> Vec<Value> {
        JsonPath::parse(path)
            .unwrap()
            .query(doc)
            .all()
            .into_iter()
            .cloned()
            .collect()
    }

    fn is_kept(pattern: &str) -> bool {
        COMPILED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|k| k.contains_key(pattern))
    }

    /// The functions mean what the specification's do, and the ones
    /// that run are these, which keep their patterns compiled.
    #[test]
    fn match_and_search_select_as_specified_and_keep_their_patterns() {
        let events: Vec<Value> = (0..300)
            .map(|i| json!({"n": i, "reason": format!("visit {i}: blood pressure check")}))
            .chain([
                json!({"n": -1, "reason": "Blood pressure check"}),
                json!({"n": -2, "reason": 7}),
            ])
            .collect();
        let doc = json!({ "events": events });
        let whole = query("$.events[?match(@.reason, 'visit 1[0-9]: .*')].n", &doc);
        assert_eq!(whole, (10..20).map(Value::from).collect::<Vec<_>>());
        // `match` is anchored: a part is not enough.
        assert!(query("$.events[?match(@.reason, 'blood')].n", &doc).is_empty());
        let part = query("$.events[?search(@.reason, '^Blood')].n", &doc);
        assert_eq!(part, vec![Value::from(-1)]);
        // A pattern that does not compile matches nothing.
        assert!(query("$.events[?search(@.reason, '(')].n", &doc).is_empty());
        assert!(is_kept("(?R)^(visit 1[0-9]: .*)$"));
        assert!(is_kept("(?R)(^Blood)"));
    }
}
