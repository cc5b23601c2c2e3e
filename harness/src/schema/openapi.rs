//! A focused OpenAPI 3.0 response validator: finds the operation of a
//! path and method, its response for the status (or `default`), and checks
//! the body against the schema of the response's media type. The schema
//! keywords the document uses are supported: `$ref`, `type`, `nullable`,
//! `enum`, `properties`, `required`, `additionalProperties`, `items`,
//! `minItems`/`maxItems`, `anyOf`/`oneOf`/`allOf`.

use std::sync::OnceLock;

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
        let body = match resp.json() {
            Ok(v) => v,
            Err(e) => return vec![format!("the body is not JSON ({e})")],
        };
        let mut errors = Vec::new();
        validate_at(doc, schema, &body, Loc::Root("$"), &mut errors);
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

/// Checks `v` against `schema`, adding what is wrong (with its location).
pub fn validate(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    validate_at(doc, schema, v, Loc::Root(at), errors);
}

/// [`validate`], with the location rendered only into an error.
fn validate_at(doc: &Value, schema: &Value, v: &Value, at: Loc<'_>, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if v.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate_at(doc, s, v, at, errors);
        }
    }
    for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            let passing = alts
                .iter()
                .filter(|s| {
                    let mut e = Vec::new();
                    validate_at(doc, s, v, at, &mut e);
                    e.is_empty()
                })
                .count();
            if passing == 0 || (exactly_one && passing > 1) {
                errors.push(format!(
                    "{at}: matches {passing} of the {} alternatives of `{key}` (got {})",
                    alts.len(),
                    excerpt(v)
                ));
            }
        }
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let actual = type_name(v);
        let ok = actual == t || (t == "number" && actual == "integer");
        if !ok {
            errors.push(format!("{at}: expected {t}, got {actual} {}", excerpt(v)));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
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
            if let Some(req) = schema.get("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !m.contains_key(r) {
                        errors.push(format!("{at}: required property `{r}` is missing"));
                    }
                }
            }
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, val) in m {
                let here = Loc::Key(&at, k);
                match props.and_then(|p| p.get(k)) {
                    Some(s) => validate_at(doc, s, val, here, errors),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errors.push(format!("{here}: property not allowed here"))
                        }
                        Some(s @ Value::Object(_)) => validate_at(doc, s, val, here, errors),
                        _ => {}
                    },
                }
            }
        }
        Value::Array(a) => {
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                if a.len() as u64 > max {
                    errors.push(format!("{at}: {} items, at most {max} allowed", a.len()));
                }
            }
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
                if (a.len() as u64) < min {
                    errors.push(format!("{at}: {} items, at least {min} needed", a.len()));
                }
            }
            if let Some(items) = schema.get("items") {
                for (i, x) in a.iter().enumerate() {
                    validate_at(doc, items, x, Loc::Index(&at, i), errors);
                }
            }
        }
        _ => {}
    }
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
            headers: vec![("Content-Type".into(), ct.into())],
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
