//! Checking a response against a step's `expect`.

use std::borrow::Cow;

use serde_json::Value;

use crate::outcome::{Failure, FailureKind};
use crate::scenario::{Expect, JsonPathExpr, Mismatch, Vars};
use crate::soap::XmlBody;
use crate::transport::HttpResponse;

/// Every way the response differs from the expectation; empty when it
/// passes.
pub fn check(expect: &Expect, resp: &HttpResponse, vars: &Vars) -> Vec<Failure> {
    let text = std::sync::OnceLock::new();
    check_with(expect, resp, &XmlBody::new(&resp.body, &text), vars)
}

/// [`check`], reading the body as XML (when `expect` does) through `xml`,
/// which a step's captures then read too.
pub fn check_with(
    expect: &Expect,
    resp: &HttpResponse,
    xml: &XmlBody<'_>,
    vars: &Vars,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    if let Some(status) = &expect.status {
        if !status.0.contains(&resp.status) {
            let want = status
                .0
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or ");
            failures.push(Failure::new(
                FailureKind::Status,
                "status",
                format!("expected {want}, got {}", resp.status),
            ));
        }
    }
    for (name, matcher) in &expect.headers {
        let values: Vec<Value> = resp
            .header_values(name)
            .into_iter()
            .map(|v| Value::String(v.to_owned()))
            .collect();
        if let Err(m) = matcher.check(&values, vars, true) {
            failures.push(mismatch(FailureKind::Header, format!("header {name}"), m));
        }
    }
    for (path, matcher) in &expect.json {
        match select(resp, path) {
            Ok(nodes) => {
                if let Err(m) = matcher.check(&nodes, vars, false) {
                    failures.push(mismatch(FailureKind::Json, path.source.clone(), m));
                }
            }
            Err(f) => {
                failures.push(f);
                break;
            }
        }
    }
    if let Some(matcher) = &expect.body {
        if let Err(m) = matcher.check(&[Value::String(resp.text().into_owned())], vars, true) {
            failures.push(mismatch(FailureKind::Body, "body".to_owned(), m));
        }
    }
    if !expect.xml.is_empty() || expect.fault.is_some() {
        check_xml(expect, resp, xml, vars, &mut failures);
    }
    failures
}

/// `xml` paths and the `fault`, on the body parsed as XML.
fn check_xml(
    expect: &Expect,
    resp: &HttpResponse,
    xml: &XmlBody<'_>,
    vars: &Vars,
    failures: &mut Vec<Failure>,
) {
    let doc = match xml.doc() {
        Ok(d) => d,
        Err(e) => {
            let ct = resp.header("content-type").unwrap_or("none");
            failures.push(Failure::new(
                FailureKind::Xml,
                "body",
                format!("{e}; content-type: {ct}"),
            ));
            return;
        }
    };
    let tns = vars
        .get("soap_namespace")
        .map(crate::scenario::display)
        .unwrap_or_default();
    for (path, matcher) in &expect.xml {
        let values: Vec<Value> = path
            .values(doc, &tns)
            .into_iter()
            .map(Value::String)
            .collect();
        if let Err(m) = matcher.check(&values, vars, true) {
            failures.push(mismatch(FailureKind::Xml, path.source.clone(), m));
        }
    }
    let Some(spec) = &expect.fault else {
        return;
    };
    let Some(fault) = crate::soap::fault(doc) else {
        failures.push(Failure::new(
            FailureKind::Fault,
            "fault",
            "expected a SOAP fault, but the body has no soap:Fault",
        ));
        return;
    };
    if let Some(code) = &spec.code {
        let (want_ns, want_local) = match code.split_once(':') {
            Some((p, l)) => (crate::scenario::namespace_of(p, &tns), l),
            None => (None, code.as_str()),
        };
        let same = match want_ns {
            // A known prefix: compare the namespace, not the prefix.
            Some(ns) => {
                fault.code_namespace.as_deref() == Some(ns) && fault.code_local == want_local
            }
            None => fault.code_text == *code,
        };
        if !same {
            let actual = match &fault.code_namespace {
                Some(ns) => format!("{} ({{{ns}}}{})", fault.code_text, fault.code_local),
                None => fault.code_text.clone(),
            };
            failures.push(Failure::new(
                FailureKind::Fault,
                "fault code",
                format!("expected {code}, got {actual}"),
            ));
        }
    }
    if let Some(m) = &spec.string {
        if let Err(m) = m.check(&[Value::String(fault.string.clone())], vars, true) {
            failures.push(mismatch(FailureKind::Fault, "fault string".to_owned(), m));
        }
    }
}

/// The nodes `path` selects in the body: what [`HttpResponse::pick`]
/// picked for it, or else the query on the whole tree.
pub fn select<'r>(
    resp: &'r HttpResponse,
    path: &JsonPathExpr,
) -> Result<Vec<Cow<'r, Value>>, Failure> {
    if let Some(picked) = path.singular.as_ref().and_then(|s| resp.picked(s)) {
        return Ok(picked.map(Cow::Borrowed).into_iter().collect());
    }
    Ok(match parse_json(resp)? {
        Cow::Borrowed(doc) => path.select(doc).into_iter().map(Cow::Borrowed).collect(),
        Cow::Owned(doc) => path
            .select(&doc)
            .into_iter()
            .map(|v| Cow::Owned(v.clone()))
            .collect(),
    })
}

/// The body as JSON, or a failure that says why it is not.
pub fn parse_json(resp: &HttpResponse) -> Result<Cow<'_, Value>, Failure> {
    resp.json().map_err(|e| {
        let ct = resp.header("content-type").unwrap_or("none");
        Failure::new(
            FailureKind::Json,
            "body",
            format!("the body is not JSON ({e}; content-type: {ct})"),
        )
    })
}

fn mismatch(kind: FailureKind, subject: String, m: Mismatch) -> Failure {
    let diff = m.sides.as_deref().and_then(|(e, a)| diff(e, a));
    Failure::new(kind, subject, m.message).with_diff(diff)
}

/// A unified diff of two values, when they are big enough that the
/// one-line message does not show the difference.
pub fn diff(expected: &Value, actual: &Value) -> Option<String> {
    let pretty = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    let (e, a) = (pretty(expected), pretty(actual));
    if !e.contains('\n') && !a.contains('\n') && e.len() + a.len() < 120 {
        return None;
    }
    Some(text_diff(&e, &a))
}

/// A unified diff of two texts, `-` expected and `+` actual.
pub fn text_diff(expected: &str, actual: &str) -> String {
    let (e, a) = (
        format!("{}\n", expected.trim_end()),
        format!("{}\n", actual.trim_end()),
    );
    similar::TextDiff::from_lines(&e, &a)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Expect;
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

    fn expect(yaml: &str) -> Expect {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn each_kind_passes_and_fails_readably() {
        let ok = resp(
            200,
            "application/json",
            r#"{"a":{"b":[1,2,3]},"s":"hello"}"#,
        );
        let e = expect(
            "status: 200\nheaders: {content-type: {contains: json}}\njson: {'$.a.b': {length: 3}, '$.s': hello}\nbody: {contains: hello}",
        );
        assert!(check(&e, &ok, &Vars::default()).is_empty());

        let bad = resp(404, "text/xml", "<error/>");
        let f = check(&e, &bad, &Vars::default());
        let kinds: Vec<_> = f.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                FailureKind::Status,
                FailureKind::Header,
                FailureKind::Json,
                FailureKind::Body
            ]
        );
        assert_eq!(f[0].message, "expected 200, got 404");
        assert!(
            f[2].message.starts_with("the body is not JSON"),
            "{}",
            f[2].message
        );
    }

    #[test]
    fn object_mismatches_come_with_a_diff() {
        let r = resp(
            200,
            "application/json",
            r#"{"p":{"first":"Jordan","last":"Lee","dob":"1985-04-12"}}"#,
        );
        let e = expect("json: {'$.p': {equals: {first: Jordan, last: Li, dob: '1985-04-12'}}}");
        let f = check(&e, &r, &Vars::default());
        let d = f[0].diff.as_deref().unwrap();
        assert!(d.contains("-  \"last\": \"Li\""), "{d}");
        assert!(d.contains("+  \"last\": \"Lee\""), "{d}");
    }

    #[test]
    fn several_statuses_can_be_accepted() {
        let e = expect("status: [200, 201]");
        assert!(check(&e, &resp(201, "", ""), &Vars::default()).is_empty());
        assert_eq!(
            check(&e, &resp(500, "", ""), &Vars::default())[0].message,
            "expected 200 or 201, got 500"
        );
    }
}
