//! FHIR R4 structure checks driven by `harness/data/fhir-r4.yaml`: every
//! element known, cardinality (`0..1` not an array, `0..*` an array,
//! required present), choice types, datatypes recursively, primitive
//! values by the specification's regular expressions, and the JSON rules
//! (no nulls, no empty strings, arrays or objects).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::Loc;
use crate::transport::HttpResponse;

mod streamed;

const RULES: &str = include_str!("../../data/fhir-r4.yaml");

#[derive(Debug, Clone)]
enum TypeRef {
    Named(String),
    Backbone(Elements),
}

#[derive(Debug, Clone)]
struct Element {
    /// The name, without `[x]` for a choice.
    name: String,
    choice: bool,
    types: Vec<TypeRef>,
    required: bool,
    many: bool,
}

/// The rules' tables are looked up for every value of every response
/// checked: a fast hash, as their keys are the rules' own names.
type Table<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// A type's elements, their names indexed: every key of every object
/// checked is looked up in one.
#[derive(Debug, Clone, Default)]
struct Elements {
    list: Vec<Element>,
    /// The first element of each name that is not a choice.
    exact: Table<usize>,
    /// Where the choice elements (`value[x]`) are, in order.
    choices: Vec<usize>,
    /// Where the required elements are: an object's are counted as its
    /// members are read.
    required: Vec<usize>,
}

impl From<Vec<Element>> for Elements {
    fn from(list: Vec<Element>) -> Elements {
        let mut exact = Table::default();
        let mut choices = Vec::new();
        for (i, e) in list.iter().enumerate() {
            if e.choice {
                choices.push(i);
            } else {
                exact.entry(e.name.clone()).or_insert(i);
            }
        }
        let required = (0..list.len()).filter(|&i| list[i].required).collect();
        Elements {
            list,
            exact,
            choices,
            required,
        }
    }
}

impl std::ops::Deref for Elements {
    type Target = [Element];

    fn deref(&self) -> &[Element] {
        &self.list
    }
}

impl Elements {
    /// The element `key` names and the type it takes there: the first
    /// in order that is not a choice and has that name, or a choice
    /// whose name starts `key` and one of whose types ends it.
    fn find(&self, rules: &Rules, key: &str) -> Option<(&Element, Cow<'_, TypeRef>)> {
        let exact = self.exact.get(key).copied();
        let choice = self
            .choices
            .iter()
            .take_while(|&&i| exact.is_none_or(|x| i < x))
            .find_map(|&i| {
                let e = &self.list[i];
                let rest = key.strip_prefix(e.name.as_str())?;
                e.types.iter().find_map(|t| match t {
                    TypeRef::Named(n) if n == "*" && !rest.is_empty() => {
                        Some((e, Cow::Owned(TypeRef::Named(any_type(rules, rest)))))
                    }
                    TypeRef::Named(n) if is_capitalized(n, rest) => Some((e, Cow::Borrowed(t))),
                    _ => None,
                })
            });
        choice.or_else(|| {
            let e = &self.list[exact?];
            e.types.first().map(|t| (e, Cow::Borrowed(t)))
        })
    }
}

#[derive(Debug, Default)]
struct Rules {
    primitives: Table<Regex>,
    id_exceptions: Table<Regex>,
    types: Table<Elements>,
    resources: Table<Elements>,
    /// Code bindings: resource type → element → codes.
    codes: Table<Table<Vec<String>>>,
    common: Common,
}

/// Primitive types checked by JSON type rather than a pattern.
const JSON_PRIMITIVES: &[&str] = &[
    "boolean",
    "integer",
    "positiveInt",
    "unsignedInt",
    "decimal",
];

/// Why the rules file does not load: a build defect, caught by the tests.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("fhir-r4.yaml: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("fhir-r4.yaml: {0}")]
    Shape(String),
}

fn parse_elements(map: &serde_yaml::Mapping) -> Result<Vec<Element>, RulesError> {
    let mut out = Vec::new();
    for (k, v) in map {
        let key = k
            .as_str()
            .ok_or_else(|| RulesError::Shape(format!("element name {k:?} is not text")))?;
        match v {
            serde_yaml::Value::String(spec) => {
                let (body, required, many) = card(spec);
                let (name, choice) = match key.strip_suffix("[x]") {
                    Some(n) => (n.to_owned(), true),
                    None => (key.to_owned(), false),
                };
                out.push(Element {
                    name,
                    choice,
                    types: body
                        .split('|')
                        .map(|t| TypeRef::Named(t.trim().to_owned()))
                        .collect(),
                    required,
                    many,
                });
            }
            serde_yaml::Value::Mapping(m) => {
                let (name, required, many) = card(key);
                out.push(Element {
                    name: name.to_owned(),
                    choice: false,
                    types: vec![TypeRef::Backbone(parse_elements(m)?.into())],
                    required,
                    many,
                });
            }
            other => return Err(RulesError::Shape(format!("element `{key}`: {other:?}"))),
        }
    }
    Ok(out)
}

/// `Type!` → (`Type`, required, many).
fn card(s: &str) -> (&str, bool, bool) {
    match s.chars().last() {
        Some('!') => (&s[..s.len() - 1], true, false),
        Some('*') => (&s[..s.len() - 1], false, true),
        Some('+') => (&s[..s.len() - 1], true, true),
        _ => (s, false, false),
    }
}

fn load() -> Result<Rules, RulesError> {
    let doc: serde_yaml::Value = serde_yaml::from_str(RULES)?;
    let section = |name: &str| -> Result<serde_yaml::Mapping, RulesError> {
        doc.get(name)
            .and_then(serde_yaml::Value::as_mapping)
            .cloned()
            .ok_or_else(|| RulesError::Shape(format!("no `{name}` section")))
    };
    let mut rules = Rules {
        common: Common::new(),
        ..Rules::default()
    };
    for (k, v) in section("primitives")? {
        let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
            return Err(RulesError::Shape("primitives are `name: regex`".into()));
        };
        let re = Regex::new(v).map_err(|e| RulesError::Shape(format!("primitive `{k}`: {e}")))?;
        rules.primitives.insert(k.to_owned(), re);
    }
    for (k, v) in section("id_exceptions")? {
        let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
            return Err(RulesError::Shape(
                "id_exceptions are `Resource: regex`".into(),
            ));
        };
        let re =
            Regex::new(v).map_err(|e| RulesError::Shape(format!("id exception `{k}`: {e}")))?;
        rules.id_exceptions.insert(k.to_owned(), re);
    }
    for (target, name) in [
        (&mut rules.types, "types"),
        (&mut rules.resources, "resources"),
    ] {
        for (k, v) in section(name)? {
            let (Some(k), Some(m)) = (k.as_str(), v.as_mapping()) else {
                return Err(RulesError::Shape(format!("`{name}` entries are maps")));
            };
            target.insert(k.to_owned(), parse_elements(m)?.into());
        }
    }
    for (k, v) in section("codes")? {
        let (Some(k), Some(list)) = (k.as_str(), v.as_sequence()) else {
            return Err(RulesError::Shape(
                "codes are `Type.element: [codes]`".into(),
            ));
        };
        let (owner, element) = k.split_once('.').unwrap_or((k, ""));
        rules.codes.entry(owner.to_owned()).or_default().insert(
            element.to_owned(),
            list.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
        );
    }
    Ok(rules)
}

fn rules() -> &'static Result<Rules, RulesError> {
    static R: OnceLock<Result<Rules, RulesError>> = OnceLock::new();
    R.get_or_init(load)
}

/// The resource types the rules describe.
pub fn known_resources() -> Vec<String> {
    match rules() {
        Ok(r) => r.resources.keys().cloned().collect(),
        Err(_) => Vec::new(),
    }
}

/// What is wrong with a FHIR response: a resource, a Bundle, or NDJSON.
pub fn check_response(resp: &HttpResponse) -> Vec<String> {
    let media = resp
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if media.contains("ndjson") {
        let text = resp.text();
        let mut errors = Vec::new();
        let mut lines = 0;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            lines += 1;
            // A line that passes as it is read is not built.
            if passes_as_read(line.as_bytes()) {
                continue;
            }
            match crate::json::parse(line.as_bytes()) {
                Ok(v) => check_resource(&v, &format!("line {}", i + 1), &mut errors),
                Err(e) => errors.push(format!("line {}: not JSON ({e})", i + 1)),
            }
        }
        if lines == 0 {
            errors.push("the NDJSON file has no resources".into());
        }
        return errors;
    }
    // A body no one has parsed yet is checked as it is read; only a
    // failure is checked again on the tree, which says where.
    if !resp.has_tree() && passes_as_read(&resp.body) {
        return Vec::new();
    }
    match resp.json() {
        Ok(v) => {
            let mut errors = Vec::new();
            check_resource(&v, "$", &mut errors);
            errors
        }
        Err(e) => vec![format!("the body is not JSON ({e})")],
    }
}

/// Whether `body` is a resource that [`streamed::passes`] as it is read;
/// `false` sends it to the tree check.
fn passes_as_read(body: &[u8]) -> bool {
    rules()
        .as_ref()
        .is_ok_and(|r| streamed::passes(r, body) == Some(true))
}

/// Checks one resource (by its `resourceType`).
pub fn check_resource(v: &Value, at: &str, errors: &mut Vec<String>) {
    check_resource_at(v, Loc::Root(at), errors);
}

fn check_resource_at(v: &Value, at: Loc<'_>, errors: &mut Vec<String>) {
    let rules = match rules() {
        Ok(r) => r,
        Err(e) => {
            errors.push(e.to_string());
            return;
        }
    };
    let Value::Object(m) = v else {
        errors.push(format!("{at}: a resource is a JSON object"));
        return;
    };
    let Some(kind) = m.get("resourceType").and_then(Value::as_str) else {
        errors.push(format!("{at}: `resourceType` is missing"));
        return;
    };
    let Some(elements) = rules.resources.get(kind) else {
        errors.push(format!(
            "{at}: resource type `{kind}` is not one the rules describe"
        ));
        return;
    };
    if let Some(id) = m.get("id") {
        let ok = id.as_str().is_some_and(|s| {
            rules.primitives.get("id").is_some_and(|re| re.is_match(s))
                || rules
                    .id_exceptions
                    .get(kind)
                    .is_some_and(|re| re.is_match(s))
        });
        if !ok {
            errors.push(format!("{at}.id: {id} is not a valid id"));
        }
    }
    check_object(
        rules,
        m,
        &[elements, &rules.common.resource],
        &["resourceType", "id"],
        at,
        Some(kind),
        errors,
    );
}

fn common_element(name: &str, t: &str, many: bool) -> Element {
    Element {
        name: name.into(),
        choice: false,
        types: vec![TypeRef::Named(t.into())],
        required: false,
        many,
    }
}

/// The elements every resource, backbone element, datatype and
/// extension has besides its own.
#[derive(Debug, Default)]
struct Common {
    resource: Elements,
    /// `id`, `extension`, `modifierExtension`.
    backbone: Elements,
    /// `id`, `extension`.
    datatype: Elements,
    /// An Extension's own elements (`url`, `value[x]`) and `id`,
    /// `extension`.
    extension: Elements,
}

impl Common {
    fn new() -> Common {
        let resource: Vec<Element> = [
            ("meta", "Meta", false),
            ("implicitRules", "uri", false),
            ("language", "code", false),
            ("text", "Narrative", false),
            ("contained", "Resource", true),
            ("extension", "Extension", true),
            ("modifierExtension", "Extension", true),
        ]
        .into_iter()
        .map(|(name, t, many)| common_element(name, t, many))
        .collect();
        let datatype = vec![
            common_element("id", "string", false),
            common_element("extension", "Extension", true),
        ];
        let mut backbone = datatype.clone();
        backbone.push(common_element("modifierExtension", "Extension", true));
        let mut extension = vec![
            Element {
                name: "url".into(),
                choice: false,
                types: vec![TypeRef::Named("uri".into())],
                required: true,
                many: false,
            },
            Element {
                name: "value".into(),
                choice: true,
                types: vec![TypeRef::Named("*".into())],
                required: false,
                many: false,
            },
        ];
        extension.extend(datatype.iter().cloned());
        Common {
            resource: resource.into(),
            backbone: backbone.into(),
            datatype: datatype.into(),
            extension: extension.into(),
        }
    }
}

/// `rest` is `t` capitalized (`dateTime` → `DateTime`), without building
/// the capitalized string.
fn is_capitalized(t: &str, rest: &str) -> bool {
    let mut c = t.chars();
    match c.next() {
        Some(f) => {
            let mut r = rest;
            for u in f.to_uppercase() {
                match r.strip_prefix(u) {
                    Some(after) => r = after,
                    None => return false,
                }
            }
            r == c.as_str()
        }
        None => rest.is_empty(),
    }
}

/// Checks an object's elements (`elements`, the type's own then the
/// common ones); `skip` are keys handled by the caller; `owner` is the
/// resource type, for the code bindings of its elements.
fn check_object(
    rules: &Rules,
    m: &serde_json::Map<String, Value>,
    elements: &[&Elements],
    skip: &[&str],
    at: Loc<'_>,
    owner: Option<&str>,
    errors: &mut Vec<String>,
) {
    let all = || elements.iter().flat_map(|s| s.iter());
    if m.is_empty() {
        errors.push(format!("{at}: an object must not be empty"));
    }
    for (key, value) in m {
        if skip.contains(&key.as_str()) {
            continue;
        }
        let here = Loc::Key(&at, key);
        // `_given` carries a primitive's id and extensions.
        if let Some(base) = key.strip_prefix('_') {
            if !all().any(|e| e.name == base || (e.choice && base.starts_with(&e.name))) {
                errors.push(format!("{here}: unknown element"));
            }
            continue;
        }
        let found = elements.iter().find_map(|els| els.find(rules, key));
        let Some((element, t)) = found else {
            errors.push(format!("{here}: unknown element"));
            continue;
        };
        let codes = owner.and_then(|o| Some((o, rules.codes.get(o)?.get(key.as_str())?)));
        let check_item = |loc: Loc<'_>, item: &Value, errors: &mut Vec<String>| {
            check_value(rules, item, &t, loc, errors);
            if let (Some((owner, allowed)), Some(s)) = (codes, item.as_str()) {
                if !allowed.iter().any(|a| a == s) {
                    errors.push(format!(
                        "{loc}: `{s}` is not a code of {owner}.{key} ({})",
                        allowed.join(", ")
                    ));
                }
            }
        };
        match (element.many, value) {
            (true, Value::Array(a)) => {
                if a.is_empty() {
                    errors.push(format!("{here}: an array must not be empty"));
                }
                for (i, x) in a.iter().enumerate() {
                    check_item(Loc::Index(&here, i), x, errors);
                }
            }
            (true, other) => {
                errors.push(format!(
                    "{here}: cardinality 0..* needs an array, got {}",
                    short(other)
                ));
            }
            (false, Value::Array(_)) => {
                errors.push(format!(
                    "{here}: cardinality ..1 allows one value, got an array"
                ));
            }
            (false, other) => check_item(here, other, errors),
        }
    }
    for e in all().filter(|e| e.required) {
        let present = if e.choice {
            m.keys()
                .any(|k| k.starts_with(e.name.as_str()) && k.len() > e.name.len())
        } else {
            m.contains_key(&e.name)
        };
        if !present {
            let name = if e.choice {
                format!("{}[x]", e.name)
            } else {
                e.name.clone()
            };
            errors.push(format!("{at}: required element `{name}` is missing"));
        }
    }
}

/// The type an Extension's `value<Type>` names: a primitive (`valueString`
/// → `string`) or a datatype (`valueCoding` → `Coding`).
fn any_type(rules: &Rules, suffix: &str) -> String {
    let lower = lower_first(suffix);
    if rules.primitives.contains_key(&lower) || JSON_PRIMITIVES.contains(&lower.as_str()) {
        lower
    } else {
        suffix.to_owned()
    }
}

fn lower_first(t: &str) -> String {
    let mut c = t.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 50 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(47).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// The common elements of the datatype `name`: a backbone element's
/// (with `modifierExtension`) for the types the rules write out from a
/// resource's backbone elements, a datatype's for the others.
fn common_of<'r>(rules: &'r Rules, name: &str) -> &'r Elements {
    let backbone = name == "Dosage"
        || name.starts_with("Questionnaire")
        || name.starts_with("ValueSet")
        || name.starts_with("OperationDefinition")
        || name.starts_with("CapabilityStatement")
        || name == "ProvenanceAgent"
        || name == "BundleLink"
        || name == "ObservationReferenceRange";
    if backbone {
        &rules.common.backbone
    } else {
        &rules.common.datatype
    }
}

fn check_value(rules: &Rules, v: &Value, t: &TypeRef, at: Loc<'_>, errors: &mut Vec<String>) {
    if v.is_null() {
        errors.push(format!("{at}: null is not a FHIR value"));
        return;
    }
    match t {
        TypeRef::Backbone(elements) => {
            let Value::Object(m) = v else {
                errors.push(format!("{at}: expected an object, got {}", short(v)));
                return;
            };
            check_object(
                rules,
                m,
                &[elements, &rules.common.backbone],
                &[],
                at,
                None,
                errors,
            );
        }
        TypeRef::Named(name) => check_named(rules, v, name, at, errors),
    }
}

fn check_named(rules: &Rules, v: &Value, name: &str, at: Loc<'_>, errors: &mut Vec<String>) {
    match name {
        "Resource" => check_resource_at(v, at, errors),
        "Extension" => {
            let Value::Object(m) = v else {
                errors.push(format!("{at}: an Extension is an object"));
                return;
            };
            check_object(rules, m, &[&rules.common.extension], &[], at, None, errors);
        }
        "boolean" => {
            if !v.is_boolean() {
                errors.push(format!("{at}: expected a boolean, got {}", short(v)));
            }
        }
        "integer" | "positiveInt" | "unsignedInt" => match v.as_i64() {
            Some(n) if n < i64::from(i32::MIN) || n > i64::from(i32::MAX) => {
                errors.push(format!("{at}: {n} is out of the 32-bit integer range"))
            }
            Some(n) if name == "positiveInt" && n < 1 => {
                errors.push(format!("{at}: {n} is not a positiveInt"))
            }
            Some(n) if name == "unsignedInt" && n < 0 => {
                errors.push(format!("{at}: {n} is not an unsignedInt"))
            }
            Some(_) => {}
            None => errors.push(format!("{at}: expected an {name}, got {}", short(v))),
        },
        "decimal" => {
            if !v.is_number() {
                errors.push(format!("{at}: expected a decimal number, got {}", short(v)));
            }
        }
        _ => {
            if let Some(re) = rules.primitives.get(name) {
                match v.as_str() {
                    Some(s) if re.is_match(s) => {}
                    Some(s) => errors.push(format!(
                        "{at}: {} is not a valid {name}",
                        short(&Value::String(s.to_owned()))
                    )),
                    None => {
                        errors.push(format!("{at}: expected a {name} string, got {}", short(v)))
                    }
                }
            } else if let Some(elements) = rules.types.get(name) {
                let Value::Object(m) = v else {
                    errors.push(format!("{at}: expected a {name} object, got {}", short(v)));
                    return;
                };
                let common = common_of(rules, name);
                check_object(rules, m, &[elements, common], &[], at, None, errors);
            } else if JSON_PRIMITIVES.contains(&name) {
                // handled above
            } else {
                errors.push(format!("{at}: the rules know no type `{name}`"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The tree check's errors, after asserting that the check made as
    /// the text is read agrees on whether there are any.
    fn errors(v: Value) -> Vec<String> {
        let mut e = Vec::new();
        check_resource(&v, "$", &mut e);
        let body = serde_json::to_vec(&v).unwrap();
        assert_eq!(
            streamed::passes(rules().as_ref().unwrap(), &body),
            Some(e.is_empty()),
            "{v}: {e:?}"
        );
        e
    }

    /// Resources with every kind of element: choice types, extensions
    /// with `value[x]`, a primitive's `_` twin, code bindings, contained
    /// resources, backbone elements and a Bundle of entries.
    fn valid_resources() -> Vec<Value> {
        let patient = json!({
            "resourceType": "Patient", "id": "a1b2", "meta": {"lastUpdated": "2024-01-02T03:04:05Z"},
            "extension": [{"url": "http://x", "extension": [{"url": "text", "valueString": "White"}]}],
            "name": [{"family": "Lee", "given": ["Jo"], "_family": {"extension": [{"url": "http://y", "valueCode": "a"}]}}],
            "gender": "female", "birthDate": "1980-02-03", "deceasedBoolean": false,
            "telecom": [{"system": "phone", "value": "555", "rank": 1}],
            "contact": [{"relationship": [{"text": "mother"}], "name": {"family": "Lee"}}]
        });
        let observation = json!({
            "resourceType": "Observation", "id": "o1", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}], "text": "Heart rate"},
            "subject": {"reference": "Patient/a1b2"}, "effectiveDateTime": "2024-01-02T03:04:05Z",
            "valueQuantity": {"value": 72.5, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
            "contained": [{"resourceType": "Patient", "id": "c1"}]
        });
        let bundle = json!({
            "resourceType": "Bundle", "type": "searchset", "total": 2,
            "link": [{"relation": "self", "url": "http://h/fhir/Patient"}],
            "entry": [{"fullUrl": "http://h/fhir/Patient/a1b2", "resource": patient, "search": {"mode": "match"}},
                      {"resource": observation.clone()}]
        });
        vec![patient, observation, bundle]
    }

    #[test]
    fn the_examples_pass_read_whole_and_as_read() {
        for v in valid_resources() {
            assert_eq!(errors(v.clone()), Vec::<String>::new(), "{v}");
        }
    }

    /// Every place in `v`, as a list of steps from the root.
    fn places(v: &Value, here: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    here.push(Value::from(k.as_str()));
                    places(x, here, out);
                    here.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    here.push(Value::from(i));
                    places(x, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }

    fn at<'a>(v: &'a mut Value, place: &[Value]) -> &'a mut Value {
        place.iter().fold(v, |v, step| match step {
            Value::String(k) => &mut v[k.as_str()],
            _ => &mut v[step.as_u64().unwrap_or(0) as usize],
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// A valid resource damaged anywhere, in any way, gets the same
        /// verdict from the check made as it is read as from the tree's.
        #[test]
        fn the_streamed_check_agrees_with_the_tree_check(
            which in 0usize..3,
            damage in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 0u8..12), 1..3),
        ) {
            let mut v = valid_resources().swap_remove(which);
            for (place, how) in damage {
                let mut all = Vec::new();
                places(&v, &mut Vec::new(), &mut all);
                let place = place.get(&all).clone();
                let target = at(&mut v, &place);
                let old = target.clone();
                *target = match how {
                    0 => Value::Null,
                    1 => json!(1),
                    2 => json!(-1),
                    3 => json!(2.5),
                    4 => json!("x"),
                    5 => json!(""),
                    6 => json!(true),
                    7 => json!([]),
                    8 => json!({}),
                    9 => json!([old]),
                    10 => match old {
                        Value::Array(a) if !a.is_empty() => a[0].clone(),
                        Value::Object(mut m) => {
                            let last = m.keys().next_back().cloned();
                            if let Some(k) = last.filter(|k| k != "resourceType") {
                                m.shift_remove(&k);
                            }
                            Value::Object(m)
                        }
                        other => other,
                    },
                    _ => match old {
                        Value::Object(mut m) => {
                            m.insert("nope".into(), json!(1));
                            Value::Object(m)
                        }
                        other => other,
                    },
                };
            }
            errors(v);
        }
    }

    /// The lookup [`Elements::find`] replaced: the first element in order
    /// that `key` names.
    fn scan<'a>(rules: &Rules, els: &'a [Element], key: &str) -> Option<(&'a Element, TypeRef)> {
        els.iter().find_map(|e| {
            if !e.choice && e.name == key {
                return e.types.first().map(|t| (e, t.clone()));
            }
            if e.choice {
                let rest = key.strip_prefix(e.name.as_str())?;
                return e.types.iter().find_map(|t| match t {
                    TypeRef::Named(n) if n == "*" && !rest.is_empty() => {
                        Some((e, TypeRef::Named(any_type(rules, rest))))
                    }
                    TypeRef::Named(n) if is_capitalized(n, rest) => Some((e, t.clone())),
                    _ => None,
                });
            }
            None
        })
    }

    #[test]
    fn the_index_finds_the_element_a_scan_finds() {
        let r = rules().as_ref().unwrap();
        fn lists<'a>(els: &'a Elements, out: &mut Vec<&'a Elements>) {
            out.push(els);
            for e in els.iter() {
                for t in &e.types {
                    if let TypeRef::Backbone(b) = t {
                        lists(b, out);
                    }
                }
            }
        }
        let mut all = Vec::new();
        for els in r.types.values().chain(r.resources.values()) {
            lists(els, &mut all);
        }
        for els in [&r.common.resource, &r.common.backbone, &r.common.extension] {
            all.push(els);
        }
        let mut checked = 0;
        for els in all {
            let keys = els.iter().flat_map(|e| {
                ["", "String", "Quantity", "DateTime", "x", "Boolean"]
                    .map(|suffix| format!("{}{suffix}", e.name))
            });
            for key in keys.chain(["", "value", "valueCodeableConcept", "nope"].map(String::from)) {
                let found = els
                    .find(r, &key)
                    .map(|(e, t)| (e as *const Element, format!("{t:?}")));
                let expected =
                    scan(r, els, &key).map(|(e, t)| (e as *const Element, format!("{t:?}")));
                assert_eq!(found, expected, "{key}");
                checked += 1;
            }
        }
        assert!(checked > 1000, "only {checked} lookups compared");
    }

    #[test]
    fn the_rules_load_and_name_every_type_they_use() {
        let r = rules().as_ref().unwrap();
        fn walk(r: &Rules, els: &[Element], bad: &mut Vec<String>) {
            for e in els {
                for t in &e.types {
                    match t {
                        TypeRef::Named(n) => {
                            let known = n == "*"
                                || n == "Resource"
                                || n == "Extension"
                                || JSON_PRIMITIVES.contains(&n.as_str())
                                || r.primitives.contains_key(n)
                                || r.types.contains_key(n);
                            if !known {
                                bad.push(n.clone());
                            }
                        }
                        TypeRef::Backbone(b) => walk(r, b, bad),
                    }
                }
            }
        }
        let mut bad = Vec::new();
        for els in r.types.values().chain(r.resources.values()) {
            walk(r, els, &mut bad);
        }
        assert!(bad.is_empty(), "unknown types: {bad:?}");
        assert!(r.resources.len() > 35);
    }

    #[test]
    fn a_valid_patient_passes() {
        let p = json!({
            "resourceType": "Patient", "id": "a1b2", "meta": {"lastUpdated": "2024-01-02T03:04:05Z"},
            "extension": [{"url": "http://x", "extension": [{"url": "text", "valueString": "White"}]}],
            "name": [{"family": "Lee", "given": ["Jo"]}], "gender": "female", "birthDate": "1980-02-03",
            "deceasedBoolean": false, "telecom": [{"system": "phone", "value": "555"}]
        });
        assert_eq!(errors(p), Vec::<String>::new());
    }

    #[test]
    fn each_rule_catches_its_mistake() {
        let cases = [
            (
                json!({"resourceType": "Patient", "name": {"family": "Lee"}}),
                "needs an array",
            ),
            (
                json!({"resourceType": "Patient", "gender": ["male"]}),
                "allows one value",
            ),
            (
                json!({"resourceType": "Patient", "birthDate": "02/03/1980"}),
                "not a valid date",
            ),
            (
                json!({"resourceType": "Patient", "gender": "man"}),
                "not a code of Patient.gender",
            ),
            (
                json!({"resourceType": "Patient", "nickname": "Jo"}),
                "unknown element",
            ),
            (
                json!({"resourceType": "Patient", "active": "yes"}),
                "expected a boolean",
            ),
            (
                json!({"resourceType": "Patient", "name": []}),
                "must not be empty",
            ),
            (
                json!({"resourceType": "Patient", "id": "has space"}),
                "not a valid id",
            ),
            (
                json!({"resourceType": "Observation", "status": "final"}),
                "required element `code`",
            ),
            (
                json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueFoo": 1}),
                "unknown element",
            ),
            (
                json!({"resourceType": "Immunization", "status": "completed", "vaccineCode": {"text": "x"}, "patient": {"reference": "Patient/1"}}),
                "occurrence[x]",
            ),
            (
                json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceType": "Patient", "gender": 1}}]}),
                "entry[0].resource.gender",
            ),
            (
                json!({"resourceType": "Patient", "meta": {"lastUpdated": "2024-01-02T03:04:05"}}),
                "not a valid instant",
            ),
            (
                json!({"resourceType": "Nope"}),
                "not one the rules describe",
            ),
            (
                json!({"resourceType": "Patient", "name": [{"family": ""}]}),
                "not a valid string",
            ),
        ];
        for (v, want) in cases {
            let e = errors(v.clone());
            assert!(e.iter().any(|m| m.contains(want)), "{v}: {e:?}");
        }
        // OpenEMR's documented id formats are accepted, others are not.
        assert!(errors(json!({"resourceType": "Goal", "id": "0a1b2c3d-0000-4000-8000-000000000000_1",
            "lifecycleStatus": "active", "description": {"text": "x"}, "subject": {"reference": "Patient/1"}})).is_empty());
        assert!(!errors(
            json!({"resourceType": "Patient", "id": "0a1b2c3d-0000-4000-8000-000000000000_1"})
        )
        .is_empty());
    }
}
