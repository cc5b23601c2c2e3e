//! A focused OpenAPI 3.0 response validator: finds the operation of a
//! path and method, its response for the status (or `default`), and checks
//! the body against the schema of the response's media type. The schema
//! keywords the document uses are supported: `$ref`, `type`, `nullable`,
//! `enum`, `properties`, `required`, `additionalProperties`, `items`,
//! `minItems`/`maxItems`, `anyOf`/`oneOf`/`allOf`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::Loc;
use crate::transport::HttpResponse;

/// The project's document, parsed once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    // Compiled-in data, parsed by the unit tests below.
    DOC.get_or_init(|| serde_yaml::from_str(emr_catalog::OPENEMR_OPENAPI).unwrap_or(Value::Null))
}

/// `/api/patient/:puuid` → `/api/patient/{puuid}`.
pub fn openapi_path(openemr_path: &str) -> String {
    openemr_path
        .split('/')
        .map(|s| match s.strip_prefix(':') {
            Some(p) => format!("{{{p}}}"),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What is wrong with a response of `method openemr_path`; empty when it
/// matches the document.
pub fn check_response(openemr_path: &str, method: &str, resp: &HttpResponse) -> Vec<String> {
    check_with(document(), openemr_path, method, resp)
}

pub fn check_with(
    doc: &Value,
    openemr_path: &str,
    method: &str,
    resp: &HttpResponse,
) -> Vec<String> {
    let path = openapi_path(openemr_path);
    let Some(op) = doc["paths"]
        .get(&path)
        .and_then(|p| p.get(method.to_ascii_lowercase()))
    else {
        return vec![format!(
            "the OpenAPI document has no operation {method} {path}"
        )];
    };
    let status = resp.status.to_string();
    let Some(response) = op["responses"]
        .get(&status)
        .or_else(|| op["responses"].get("default"))
    else {
        let documented: Vec<&String> = op["responses"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        return vec![format!(
            "status {status} is not documented for {method} {path} (documented: {})",
            documented
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )];
    };
    let response = resolve(doc, response);
    let content = response.get("content").and_then(Value::as_object);
    let media = resp
        .header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some(content) = content else {
        return if resp.body.is_empty() {
            Vec::new()
        } else {
            vec![format!("status {status} of {method} {path} has no body in the document, but the response has {} bytes", resp.body.len())]
        };
    };
    if let Some(schema) = content.get(&media).and_then(|c| c.get("schema")) {
        if resolve(doc, schema).get("format").and_then(Value::as_str) == Some("binary") {
            return Vec::new();
        }
        // The project's document was compiled whole, once; of another (a
        // test's) the one schema is compiled for the call.
        let known = std::ptr::eq(doc, document())
            .then(compiled_document)
            .and_then(|c| Some((c, *c.ids.get(&address(resolve(doc, schema)))?)));
        // A body no one has parsed yet is checked as it is read, without
        // a tree (a clinic's appointment list took four times as long to
        // build as to check); only a failure is checked again on the tree,
        // which says where.
        if let Some((c, id)) = known.filter(|_| !resp.has_tree()) {
            if c.passes(id, &resp.body) == Some(true) {
                return Vec::new();
            }
        }
        let body = match resp.json() {
            Ok(v) => v,
            Err(e) => return vec![format!("the body is not JSON ({e})")],
        };
        let mut errors = Vec::new();
        match known {
            Some((c, id)) => c.validate(id, &body, Loc::Root("$"), &mut errors),
            None => {
                let mut c = Compiled::empty(doc);
                let id = c.compile(schema);
                c.validate(id, &body, Loc::Root("$"), &mut errors);
            }
        }
        return errors;
    }
    if content.contains_key("*/*") {
        return Vec::new();
    }
    vec![format!(
        "media type `{media}` is not documented for status {status} of {method} {path} (documented: {})",
        content.keys().cloned().collect::<Vec<_>>().join(", ")
    )]
}

/// Follows a local `$ref`.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    let mut v = v;
    for _ in 0..16 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            return v;
        };
        let Some(pointer) = r.strip_prefix('#') else {
            return v;
        };
        match doc.pointer(pointer) {
            Some(target) => v = target,
            None => return v,
        }
    }
    v
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether a value of JSON type `actual` ([`type_name`]'s names) is of
/// schema type `t`: an integer is a number too.
fn is_of_type(actual: &str, t: &str) -> bool {
    actual == t || (t == "number" && actual == "integer")
}

/// A schema's place in [`Compiled::schemas`].
type SchemaId = usize;

/// A schema with its keywords read once and its `$ref`s followed. A
/// response is checked value by value, and looking each keyword up in
/// the document's maps (a SipHash per keyword per value) cost more than
/// the checks themselves on a list of a clinic's appointments.
#[derive(Default)]
struct Schema {
    nullable: bool,
    all_of: Vec<SchemaId>,
    /// `anyOf` and `oneOf`: the keyword, whether exactly one must match,
    /// the alternatives.
    alternatives: Vec<(&'static str, bool, Vec<SchemaId>)>,
    ty: Option<String>,
    options: Option<Vec<Value>>,
    required: Vec<String>,
    properties: HashMap<String, SchemaId, foldhash::fast::RandomState>,
    additional: Additional,
    items: Option<SchemaId>,
    min_items: Option<u64>,
    max_items: Option<u64>,
}

/// `additionalProperties`.
#[derive(Default)]
enum Additional {
    #[default]
    Allowed,
    Forbidden,
    Schema(SchemaId),
}

/// Every schema of a document, compiled.
struct Compiled<'d> {
    doc: &'d Value,
    schemas: Vec<Schema>,
    /// A resolved schema's address in the document to its id: each is
    /// compiled once, and a recursive one refers to itself.
    ids: HashMap<usize, SchemaId, foldhash::fast::RandomState>,
}

impl<'d> Compiled<'d> {
    /// Nothing compiled yet.
    fn empty(doc: &'d Value) -> Self {
        Compiled {
            doc,
            schemas: Vec::new(),
            ids: HashMap::default(),
        }
    }

    /// Compiles the schemas of every response of every operation.
    fn all(doc: &'d Value) -> Self {
        let mut c = Compiled::empty(doc);
        let operations = doc["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(Value::as_object)
            .flat_map(|methods| methods.values());
        for op in operations {
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flat_map(|r| r.values());
            for response in responses {
                let content = resolve(doc, response)["content"].as_object();
                for media in content.into_iter().flat_map(|c| c.values()) {
                    if let Some(schema) = media.get("schema") {
                        c.compile(schema);
                    }
                }
            }
        }
        c
    }

    /// The id of `schema`, compiling it (and what it refers to) if needed.
    fn compile(&mut self, schema: &'d Value) -> SchemaId {
        let doc = self.doc;
        let schema = resolve(doc, schema);
        let key = address(schema);
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = self.schemas.len();
        self.schemas.push(Schema::default());
        self.ids.insert(key, id);
        let list = |c: &mut Self, key: &str| -> Option<Vec<SchemaId>> {
            let alts = schema.get(key)?.as_array()?;
            Some(alts.iter().map(|s| c.compile(s)).collect())
        };
        let mut compiled = Schema {
            nullable: schema.get("nullable").and_then(Value::as_bool) == Some(true),
            all_of: list(self, "allOf").unwrap_or_default(),
            ty: schema
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_owned),
            options: schema.get("enum").and_then(Value::as_array).cloned(),
            required: schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            max_items: schema.get("maxItems").and_then(Value::as_u64),
            min_items: schema.get("minItems").and_then(Value::as_u64),
            ..Schema::default()
        };
        for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            if let Some(alts) = list(self, key) {
                compiled.alternatives.push((key, exactly_one, alts));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, s) in props {
                let sid = self.compile(s);
                compiled.properties.insert(name.clone(), sid);
            }
        }
        compiled.additional = match schema.get("additionalProperties") {
            Some(Value::Bool(false)) => Additional::Forbidden,
            Some(s @ Value::Object(_)) => Additional::Schema(self.compile(s)),
            _ => Additional::Allowed,
        };
        compiled.items = schema.get("items").map(|s| self.compile(s));
        self.schemas[id] = compiled;
        id
    }

    /// Checks `v` against schema `id`, adding what is wrong (with its
    /// location rendered only into an error).
    fn validate(&self, id: SchemaId, v: &Value, at: Loc<'_>, errors: &mut Vec<String>) {
        let schema = &self.schemas[id];
        if v.is_null() && schema.nullable {
            return;
        }
        for &s in &schema.all_of {
            self.validate(s, v, at, errors);
        }
        for (key, exactly_one, alts) in &schema.alternatives {
            let passing = alts
                .iter()
                .filter(|&&s| {
                    let mut e = Vec::new();
                    self.validate(s, v, at, &mut e);
                    e.is_empty()
                })
                .count();
            if passing == 0 || (*exactly_one && passing > 1) {
                errors.push(format!(
                    "{at}: matches {passing} of the {} alternatives of `{key}` (got {})",
                    alts.len(),
                    excerpt(v)
                ));
            }
        }
        if let Some(t) = &schema.ty {
            let actual = type_name(v);
            if !is_of_type(actual, t) {
                errors.push(format!("{at}: expected {t}, got {actual} {}", excerpt(v)));
                return;
            }
        }
        if let Some(options) = &schema.options {
            if !options.contains(v) {
                errors.push(format!(
                    "{at}: {} is not one of {}",
                    excerpt(v),
                    Value::Array(options.clone())
                ));
            }
        }
        match v {
            Value::Object(m) => {
                for r in &schema.required {
                    if !m.contains_key(r) {
                        errors.push(format!("{at}: required property `{r}` is missing"));
                    }
                }
                for (k, val) in m {
                    let here = Loc::Key(&at, k);
                    match schema.properties.get(k) {
                        Some(&s) => self.validate(s, val, here, errors),
                        None => match schema.additional {
                            Additional::Forbidden => {
                                errors.push(format!("{here}: property not allowed here"))
                            }
                            Additional::Schema(s) => self.validate(s, val, here, errors),
                            Additional::Allowed => {}
                        },
                    }
                }
            }
            Value::Array(a) => {
                if let Some(max) = schema.max_items {
                    if a.len() as u64 > max {
                        errors.push(format!("{at}: {} items, at most {max} allowed", a.len()));
                    }
                }
                if let Some(min) = schema.min_items {
                    if (a.len() as u64) < min {
                        errors.push(format!("{at}: {} items, at least {min} needed", a.len()));
                    }
                }
                if let Some(items) = schema.items {
                    for (i, x) in a.iter().enumerate() {
                        self.validate(items, x, Loc::Index(&at, i), errors);
                    }
                }
            }
            _ => {}
        }
    }
}

impl Compiled<'_> {
    /// Whether `body` passes schema `id`, read in one pass of the parser
    /// without a tree; `None` when it is not JSON. Only a pass is taken
    /// from here: it checks every value the tree check does (and, of a
    /// repeated name, every value, where the tree keeps the last), so a
    /// body that passes here passes there.
    fn passes(&self, id: SchemaId, body: &[u8]) -> Option<bool> {
        let mut ok = true;
        let streamed = Streamed {
            compiled: self,
            schema: Some(id),
            ok: &mut ok,
        };
        crate::json::walk(body, streamed)?;
        Some(ok)
    }
}

/// [`Compiled::passes`] at one value: the schema it must match (`None`:
/// any value, read only to check the text is JSON), and whether every
/// value so far has.
struct Streamed<'c, 'd, 'o> {
    compiled: &'c Compiled<'d>,
    schema: Option<SchemaId>,
    ok: &'o mut bool,
}

impl<'c, 'd> Streamed<'c, 'd, '_> {
    fn child(&mut self, schema: Option<SchemaId>) -> Streamed<'c, 'd, '_> {
        Streamed {
            compiled: self.compiled,
            schema: schema.filter(|_| *self.ok),
            ok: &mut *self.ok,
        }
    }

    /// Checks a value's type, as [`Compiled::validate`] does; the schema
    /// whose members or items are checked next, if any.
    fn typed(&mut self, actual: &str) -> Option<&'c Schema> {
        let schema = &self.compiled.schemas[self.schema?];
        if actual == "null" && schema.nullable {
            return None;
        }
        if let Some(t) = &schema.ty {
            if !is_of_type(actual, t) {
                *self.ok = false;
                return None;
            }
        }
        Some(schema)
    }

    fn scalar<E>(mut self, actual: &str) -> Result<(), E> {
        self.typed(actual);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Streamed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let Some(id) = self.schema else {
            return crate::json::Skip.deserialize(d);
        };
        let schema = &self.compiled.schemas[id];
        // Alternatives try the value several times, and `enum` compares it
        // whole: it is built, and checked on the tree.
        if !schema.all_of.is_empty() || !schema.alternatives.is_empty() || schema.options.is_some()
        {
            let value = Value::deserialize(d)?;
            let mut errors = Vec::new();
            self.compiled
                .validate(id, &value, Loc::Root("$"), &mut errors);
            *self.ok &= errors.is_empty();
            return Ok(());
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Streamed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar("boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar("integer")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar("integer")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar("number")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar("string")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar("null")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let schema = self.typed("array");
        let items = schema.and_then(|s| s.items);
        let mut n: u64 = 0;
        while seq.next_element_seed(self.child(items))?.is_some() {
            n += 1;
        }
        if let Some(s) = schema {
            let too_many = s.max_items.is_some_and(|max| n > max);
            let too_few = s.min_items.is_some_and(|min| n < min);
            *self.ok &= !(too_many || too_few);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let schema = self.typed("object");
        let mut seen = vec![false; schema.map_or(0, |s| s.required.len())];
        while let Some(key) = map.next_key::<crate::json::Name<'de>>()? {
            let key = key.as_str();
            let member = schema.and_then(|s| {
                if let Some(i) = s.required.iter().position(|r| r == key) {
                    seen[i] = true;
                }
                match (s.properties.get(key), &s.additional) {
                    (Some(&p), _) => Some(p),
                    (None, Additional::Schema(a)) => Some(*a),
                    (None, Additional::Forbidden) => {
                        *self.ok = false;
                        None
                    }
                    (None, Additional::Allowed) => None,
                }
            });
            map.next_value_seed(self.child(member))?;
        }
        *self.ok &= seen.iter().all(|&s| s);
        Ok(())
    }
}

/// A schema's address in its document: what identifies it once its
/// `$ref`s are followed (compared, never read through).
fn address(schema: &Value) -> usize {
    std::ptr::from_ref(schema).addr()
}

/// The project's document, compiled once.
fn compiled_document() -> &'static Compiled<'static> {
    static COMPILED: OnceLock<Compiled<'static>> = OnceLock::new();
    COMPILED.get_or_init(|| Compiled::all(document()))
}

fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(57).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn resp(status: u16, ct: &str, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: [("Content-Type", ct)].into_iter().collect(),
            body: body.as_bytes().to_vec().into(),
            elapsed: Duration::ZERO,
            parsed: Default::default(),
        }
    }

    #[test]
    fn the_document_parses_and_names_its_operations() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.0.3");
        assert!(doc["paths"]["/api/patient/{puuid}"]["get"].is_object());
    }

    #[test]
    fn a_matching_wrapper_passes_and_drift_is_reported() {
        let good = r#"{"validationErrors":[],"internalErrors":[],"data":{"id":"1","pid":"1","uuid":"u","fname":"A","lname":"B","DOB":"1990-01-01","sex":"Male"},"links":[]}"#;
        assert!(check_response(
            "/api/patient/:puuid",
            "GET",
            &resp(200, "application/json", good)
        )
        .is_empty());
        // A type change, a missing field, an undocumented status.
        let drift = r#"{"validationErrors":[],"internalErrors":[],"data":{"id":1,"pid":"1","uuid":"u","fname":"A","DOB":"1990-01-01","sex":"Male"},"links":[]}"#;
        let e = check_response(
            "/api/patient/:puuid",
            "GET",
            &resp(200, "application/json", drift),
        );
        assert!(
            e.iter().any(|m| m.contains("$.data.id: expected string")),
            "{e:?}"
        );
        assert!(e.iter().any(|m| m.contains("`lname` is missing")), "{e:?}");
        let e = check_response(
            "/api/patient/:puuid",
            "GET",
            &resp(418, "application/json", "{}"),
        );
        assert!(e[0].contains("not documented"), "{e:?}");
    }

    /// A document's own schemas: a recursive `$ref`, `nullable`,
    /// `oneOf`, `enum` and `additionalProperties: false`, compiled for the
    /// call.
    #[test]
    fn another_documents_recursive_schema_is_followed() {
        let mut doc = every_keyword();
        doc["paths"] = serde_json::json!({"/tree": {"get": {"responses": {"200": {"content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}}}});
        let check =
            |body: &str| check_with(&doc, "/tree", "GET", &resp(200, "application/json", body));
        assert_eq!(
            check(r#"{"name":"a","size":null,"children":[{"name":"b","size":3}]}"#),
            Vec::<String>::new()
        );
        let e = check(r#"{"name":"a","children":[{"name":"c","extra":1,"size":true},{},{}]}"#);
        for wanted in [
            "$.children: 3 items, at most 2 allowed",
            "$.children[0].name: \"c\" is not one of",
            "$.children[0].extra: property not allowed here",
            "$.children[0].size: matches 0 of the 2 alternatives of `oneOf`",
            "$.children[1]: required property `name` is missing",
        ] {
            assert!(e.iter().any(|m| m.starts_with(wanted)), "{wanted} in {e:?}");
        }
    }

    /// Schemas with every keyword, for the streamed check against the
    /// tree's.
    fn every_keyword() -> Value {
        serde_json::json!({
            "components": {"schemas": {"Node": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": false,
                "properties": {
                    "name": {"type": "string", "enum": ["a", "b"]},
                    "size": {"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": true},
                    "weight": {"type": "number"},
                    "tags": {"type": "object", "additionalProperties": {"type": "boolean"}},
                    "children": {"type": "array", "minItems": 1, "maxItems": 2,
                                 "items": {"$ref": "#/components/schemas/Node"}}
                }
            }}}
        })
    }

    /// Documents near the shape of [`every_keyword`]'s `Node`.
    fn node() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-3i64..3).prop_map(Value::from),
            Just(Value::from(2.5)),
            prop_oneof![3 => Just("a"), 1 => Just("c")].prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        3 => Just("name"),
                        6 => prop::sample::select(vec!["size", "weight", "tags", "children"]),
                        1 => Just("x"),
                    ],
                    inner,
                    0..4,
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// A body passes the check made as it is read exactly when it
        /// passes the check on its tree.
        #[test]
        fn the_streamed_check_is_the_tree_check(doc in node()) {
            let schemas = every_keyword();
            let root = &schemas["components"]["schemas"]["Node"];
            let mut c = Compiled::empty(&schemas);
            let id = c.compile(root);
            let mut errors = Vec::new();
            c.validate(id, &doc, Loc::Root("$"), &mut errors);
            let body = serde_json::to_vec(&doc).unwrap();
            proptest::prop_assert_eq!(c.passes(id, &body), Some(errors.is_empty()), "{:?}", errors);
        }
    }

    #[test]
    fn the_streamed_check_by_keyword_and_of_text_that_is_not_json() {
        let schemas = every_keyword();
        let mut c = Compiled::empty(&schemas);
        let id = c.compile(&schemas["components"]["schemas"]["Node"]);
        // Each keyword, passed and failed.
        for (body, passes) in [
            (r#"{"name": "a"}"#, true),
            (
                r#"{"name": "a", "children": [{"name": "b", "size": null}]}"#,
                true,
            ),
            (r#"{"name": "a", "children": []}"#, false),
            (
                r#"{"name": "a", "children": [{"name": "a"}, {"name": "a"}, {"name": "a"}]}"#,
                false,
            ),
            (r#"{"name": "a", "children": [{}]}"#, false),
            (r#"{"name": "c"}"#, false),
            (r#"{"name": "a", "x": 1}"#, false),
            (r#"{"name": "a", "size": 2.5}"#, false),
            (r#"{"name": "a", "weight": 2}"#, true),
            (r#"{"name": "a", "weight": "2"}"#, false),
            (r#"{"name": "a", "tags": {"t": true}}"#, true),
            (r#"{"name": "a", "tags": {"t": 1}}"#, false),
            (r#"{"name": null}"#, false),
            (r#"[]"#, false),
        ] {
            let mut errors = Vec::new();
            let tree: Value = serde_json::from_str(body).unwrap();
            c.validate(id, &tree, Loc::Root("$"), &mut errors);
            assert_eq!(errors.is_empty(), passes, "{body}: {errors:?}");
            assert_eq!(c.passes(id, body.as_bytes()), Some(passes), "{body}");
        }
        for bad in [
            &br#"{"name": "a""#[..],
            br#"{"name": "a"} 1"#,
            b"{\"name\": \"\xff\"}",
            br#"{"weight": 1e999}"#,
        ] {
            assert_eq!(c.passes(id, bad), None);
        }
    }

    #[test]
    fn legacy_empty_404s_and_media_types() {
        assert!(check_response(
            "/api/patient/:pid/medication",
            "GET",
            &resp(404, "text/html", "")
        )
        .is_empty());
        let e = check_response(
            "/api/patient/:pid/medication",
            "GET",
            &resp(404, "text/html", "oops"),
        );
        assert_eq!(e.len(), 1, "{e:?}");
        let e = check_response("/api/patient/:puuid", "GET", &resp(200, "text/xml", "<a/>"));
        assert!(e[0].contains("media type"), "{e:?}");
    }
}
