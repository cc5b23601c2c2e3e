//! OpenEMR's validators, driven by `data/openemr/validation.yaml`: the
//! Particle rules (`Required`, `LengthBetween`, `Datetime`, `Numeric`,
//! `Email`, `Url`, `InArray`, `Callback`) with Particle's codes and
//! message texts, and the list options of `data/openemr/lists.yaml`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::store::Data;

/// Whether the request creates or updates (rules marked `required:
/// insert` are optional on update, as the validators' contexts make them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Insert,
    Update,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSet {
    #[serde(default)]
    fields: Option<Vec<String>>,
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    key: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    required: Option<Required>,
    #[serde(default)]
    length: Option<(usize, usize)>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    numeric: bool,
    #[serde(default)]
    email: bool,
    #[serde(default)]
    url: bool,
    #[serde(default)]
    list: Option<String>,
    #[serde(default)]
    callback: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Required {
    Insert,
    Always,
}

/// One list option: id, title, mapped codes.
#[derive(Debug, Clone, Deserialize)]
pub struct ListOption(pub String, pub String, #[serde(default)] pub Option<String>);

const RULES: &str = include_str!("../../../data/openemr/validation.yaml");
const LISTS: &str = include_str!("../../../data/openemr/lists.yaml");

fn rule_sets() -> &'static BTreeMap<String, RuleSet> {
    static SETS: OnceLock<BTreeMap<String, RuleSet>> = OnceLock::new();
    // Compiled-in data, checked by the unit test below.
    SETS.get_or_init(|| serde_yaml::from_str(RULES).unwrap_or_default())
}

/// Every list of `lists.yaml`.
pub fn lists() -> &'static BTreeMap<String, Vec<ListOption>> {
    static L: OnceLock<BTreeMap<String, Vec<ListOption>>> = OnceLock::new();
    L.get_or_init(|| serde_yaml::from_str(LISTS).unwrap_or_default())
}

pub fn list(name: &str) -> Option<&'static [ListOption]> {
    lists().get(name).map(Vec::as_slice)
}

pub fn in_list(name: &str, value: &str) -> bool {
    list(name).is_some_and(|l| l.iter().any(|o| o.0 == value))
}

/// A request value as PHP sees it: strings as they are, numbers and
/// booleans as text, null as absent.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "1".into() } else { String::new() }),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Keeps the set's whitelisted keys of `input` (all when it has none).
pub fn whitelist(set: &str, input: &Map<String, Value>) -> Map<String, Value> {
    match rule_sets().get(set).and_then(|s| s.fields.as_ref()) {
        Some(fields) => input
            .iter()
            .filter(|(k, _)| fields.iter().any(|f| f == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        None => input.clone(),
    }
}

/// Runs the rules of `set` over `input`; the Particle message map
/// (`{key: {"Rule::CODE": message}}`) when something fails.
pub fn validate(set: &str, mode: Mode, input: &Map<String, Value>, d: &Data) -> Option<Value> {
    let rules = rule_sets().get(set)?;
    let mut errors = Map::new();
    for rule in &rules.rules {
        let name = rule.label.as_deref().unwrap_or(&rule.key);
        let required = match rule.required {
            Some(Required::Always) => true,
            Some(Required::Insert) => mode == Mode::Insert,
            None => false,
        };
        let value = input.get(&rule.key).and_then(text);
        let mut fail = |code: &str, message: String| {
            let entry = errors
                .entry(rule.key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                m.insert(code.to_owned(), Value::String(message));
            }
        };
        let Some(value) = value else {
            if required {
                fail(
                    "Required::NON_EXISTENT_KEY",
                    format!("{} must be provided, but does not exist", rule.key),
                );
            }
            continue;
        };
        if value.is_empty() {
            if required {
                fail("NotEmpty::EMPTY_VALUE", format!("{name} must not be empty"));
            }
            continue;
        }
        if let Some((min, max)) = rule.length {
            let n = value.chars().count();
            if n < min {
                fail(
                    "LengthBetween::TOO_SHORT",
                    format!("{name} must be {min} characters or longer"),
                );
            } else if n > max {
                fail(
                    "LengthBetween::TOO_LONG",
                    format!("{name} must be {max} characters or shorter"),
                );
            }
        }
        if let Some(format) = &rule.date {
            if !date_matches(format, &value) {
                fail(
                    "DateTime::INVALID_VALUE",
                    format!("{name} must be a valid date"),
                );
            }
        }
        if rule.numeric && value.trim().parse::<f64>().is_err() {
            fail("Numeric::NOT_NUMERIC", format!("{name} must be numeric"));
        }
        if rule.email && !is_email(&value) {
            fail(
                "Email::INVALID_FORMAT",
                format!("{name} must be a valid email address"),
            );
        }
        if rule.url && url::Url::parse(&value).is_err() {
            fail("Url::INVALID_URL", format!("{name} must be a valid URL"));
        }
        if let Some(l) = &rule.list {
            if !in_list(l, &value) {
                fail(
                    "InArray::NOT_IN_ARRAY",
                    format!("{name} must be in the defined set of values"),
                );
            }
        }
        if let Some(cb) = &rule.callback {
            if !callback(cb, &value, d) {
                fail("Callback::INVALID_VALUE", format!("{name} is invalid"));
            }
        }
    }
    (!errors.is_empty()).then_some(Value::Object(errors))
}

/// The existence checks OpenEMR's validators run in callbacks.
fn callback(kind: &str, value: &str, d: &Data) -> bool {
    // A number past `Id`'s range names no row, as an unknown one.
    let id = || value.trim().parse::<crate::store::Id>().ok();
    match kind {
        "patient" => d.patients().by_uuid(value).is_some(),
        "facility" => id().is_some_and(|i| d.facilities.get(i).is_some()),
        "user" => id().is_some_and(|i| d.providers.get(i).is_some()),
        "insurance_company" => id().is_some_and(|i| d.insurance_companies.get(i).is_some()),
        other => match other.strip_prefix("list:") {
            Some(l) => in_list(l, value),
            None => false,
        },
    }
}

/// PHP `DateTime::createFromFormat` + round trip, for the letters the
/// validators use.
pub fn date_matches(format: &str, value: &str) -> bool {
    let chrono_format: String = format
        .chars()
        .map(|c| match c {
            'Y' => "%Y".to_owned(),
            'm' => "%m".to_owned(),
            'd' => "%d".to_owned(),
            'H' => "%H".to_owned(),
            'i' => "%M".to_owned(),
            's' => "%S".to_owned(),
            other => other.to_string(),
        })
        .collect();
    if format.contains('Y') && format.contains('H') {
        chrono::NaiveDateTime::parse_from_str(value, &chrono_format)
            .is_ok_and(|d| d.format(&chrono_format).to_string() == value)
    } else if format.contains('Y') {
        chrono::NaiveDate::parse_from_str(value, &chrono_format)
            .is_ok_and(|d| d.format(&chrono_format).to_string() == value)
    } else {
        chrono::NaiveTime::parse_from_str(value, &chrono_format)
            .is_ok_and(|d| d.format(&chrono_format).to_string() == value)
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn the_data_files_parse() {
        let sets: BTreeMap<String, RuleSet> = serde_yaml::from_str(RULES).unwrap();
        assert!(sets.contains_key("patient"));
        let lists: BTreeMap<String, Vec<ListOption>> = serde_yaml::from_str(LISTS).unwrap();
        assert!(lists["_ActEncounterCode"].iter().any(|o| o.0 == "AMB"));
        for set in sets.values() {
            for r in &set.rules {
                for l in r.list.iter().chain(
                    r.callback
                        .iter()
                        .filter_map(|c| c.strip_prefix("list:").map(|_| c)),
                ) {
                    let name = l.strip_prefix("list:").unwrap_or(l);
                    assert!(lists.contains_key(name), "{name}");
                }
            }
        }
    }

    #[test]
    fn particle_messages() {
        let d = Data::default();
        let e = validate(
            "patient",
            Mode::Insert,
            &obj(json!({"lname": "X", "DOB": "1990-02-30", "sex": "Male"})),
            &d,
        )
        .unwrap();
        assert_eq!(
            e["fname"]["Required::NON_EXISTENT_KEY"],
            "fname must be provided, but does not exist"
        );
        assert_eq!(
            e["lname"]["LengthBetween::TOO_SHORT"],
            "Last Name must be 2 characters or longer"
        );
        assert_eq!(
            e["DOB"]["DateTime::INVALID_VALUE"],
            "Date of Birth must be a valid date"
        );
        assert!(e.get("sex").is_none());
        assert!(validate("patient", Mode::Update, &obj(json!({"lname": "Lee"})), &d).is_none());
        let e = validate(
            "patient",
            Mode::Insert,
            &obj(json!({"fname": "", "lname": "Lee", "sex": "Female", "DOB": "1990-01-01"})),
            &d,
        )
        .unwrap();
        assert_eq!(
            e["fname"]["NotEmpty::EMPTY_VALUE"],
            "First Name must not be empty"
        );
        // Optional keys may be empty; whitelists drop unknown keys.
        assert!(validate("facility", Mode::Update, &obj(json!({"phone": ""})), &d).is_none());
        assert_eq!(
            whitelist("condition", &obj(json!({"title": "x", "color": "red"}))).len(),
            1
        );
        let e = validate(
            "facility",
            Mode::Insert,
            &obj(json!({"name": "Clinic", "facility_npi": "12ab", "email": "nope"})),
            &d,
        )
        .unwrap();
        assert_eq!(
            e["facility_npi"]["Numeric::NOT_NUMERIC"],
            "facility_npi must be numeric"
        );
        assert_eq!(
            e["facility_npi"]["LengthBetween::TOO_SHORT"],
            "facility_npi must be 10 characters or longer"
        );
        assert_eq!(
            e["email"]["Email::INVALID_FORMAT"],
            "email must be a valid email address"
        );
    }

    #[test]
    fn dates_round_trip() {
        assert!(date_matches("Y-m-d", "2020-02-29"));
        assert!(!date_matches("Y-m-d", "2021-02-29"));
        assert!(!date_matches("Y-m-d", "2020-2-3"));
        assert!(date_matches("H:i", "09:30"));
        assert!(!date_matches("H:i", "9:30"));
    }
}
