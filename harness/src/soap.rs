//! SOAP steps: a YAML `args` map becomes the operation's wrapped request
//! element inside a SOAP 1.1 envelope, and responses are read as XML.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt::Write as _;
use std::sync::OnceLock;

use emr_catalog::{signature, Catalog};
use roxmltree::{Document, ParsingOptions};
use serde_json::Value;

use crate::transport::lossy;

pub const SOAP11_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// Escapes text for XML character data and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The SOAP namespace of a profile (`http://ws.oscarehr.org/`), if it has SOAP.
pub fn target_namespace(profile: emr_catalog::ProfileId) -> Option<&'static str> {
    profile.profile().soap_namespace.as_deref()
}

/// The arguments in the order the operation declares its parameters (the
/// catalogue knows them), then any others in the order written.
pub fn ordered_args<'a>(
    catalog: &Catalog,
    service: &str,
    operation: &str,
    args: &'a [(String, Value)],
) -> Vec<&'a (String, Value)> {
    let params: Vec<String> = catalog
        .soap(service, operation)
        .and_then(|op| signature(op).ok())
        .map(|s| s.params.into_iter().map(|p| p.name).collect())
        .unwrap_or_default();
    let mut out: Vec<&(String, Value)> = params
        .iter()
        .filter_map(|p| args.iter().find(|(k, _)| k == p))
        .collect();
    out.extend(args.iter().filter(|(k, _)| !params.contains(k)));
    out
}

/// A SOAP 1.1 request: `header` is serialised header content (the
/// WS-Security header), `args` the wrapper's children.
pub fn envelope(
    namespace: &str,
    operation: &str,
    args: &[&(String, Value)],
    header: Option<&str>,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<soapenv:Envelope xmlns:soapenv=\"{SOAP11_ENV}\" xmlns:tns=\"{}\">",
        escape(namespace)
    );
    if let Some(h) = header {
        let _ = write!(out, "<soapenv:Header>{h}</soapenv:Header>");
    }
    let _ = write!(out, "<soapenv:Body><tns:{operation}>");
    for (name, value) in args {
        element(&mut out, name, value);
    }
    let _ = write!(out, "</tns:{operation}></soapenv:Body></soapenv:Envelope>");
    out
}

/// A YAML value as unqualified elements named `name`: a map gives child
/// elements, a list repeats the element, `null` gives nothing.
fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                element(out, name, item);
            }
        }
        Value::Object(fields) => {
            let _ = write!(out, "<{name}>");
            for (k, v) in fields {
                element(out, k, v);
            }
            let _ = write!(out, "</{name}>");
        }
        Value::String(s) => {
            let _ = write!(out, "<{name}>{}</{name}>", escape(s));
        }
        other => {
            let _ = write!(out, "<{name}>{other}</{name}>");
        }
    }
}

/// Parses a response body as XML, refusing DTDs: a hostile server gets no
/// entity expansion out of the harness either.
pub fn parse_response(body: &str) -> Result<Document<'_>, String> {
    Document::parse_with_options(
        body,
        ParsingOptions {
            allow_dtd: false,
            nodes_limit: 5_000_000,
        },
    )
    .map_err(|e| format!("the body is not XML ({e})"))
}

/// A body parsed as XML on first use, once for all that reads it: a SOAP
/// step's `xml` checks, its `fault` and its captures. A body nothing
/// reads as XML is not even read as text.
pub struct XmlBody<'t> {
    body: &'t [u8],
    /// The body as text, once read: the document borrows it.
    text: &'t OnceLock<Cow<'t, str>>,
    doc: OnceCell<Result<Document<'t>, String>>,
}

impl<'t> XmlBody<'t> {
    /// `text` (empty) keeps the body's text for as long as the document
    /// is read; a `OnceLock`, so a step that holds it across an `await`
    /// stays `Send`.
    pub fn new(body: &'t [u8], text: &'t OnceLock<Cow<'t, str>>) -> Self {
        XmlBody {
            body,
            text,
            doc: OnceCell::new(),
        }
    }

    /// The document, or why the body is not XML ([`parse_response`]'s
    /// message).
    pub fn doc(&self) -> Result<&Document<'t>, &str> {
        self.doc
            .get_or_init(|| parse_response(self.text.get_or_init(|| lossy(self.body))))
            .as_ref()
            .map_err(String::as_str)
    }
}

/// The `faultcode` and `faultstring` of a SOAP 1.1 fault, the code as
/// (namespace, local name) resolved in the response.
pub struct Fault {
    pub code_namespace: Option<String>,
    pub code_local: String,
    pub code_text: String,
    pub string: String,
}

pub fn fault(doc: &Document) -> Option<Fault> {
    let f = doc
        .descendants()
        .find(|n| n.has_tag_name((SOAP11_ENV, "Fault")))?;
    let child = |name: &str| {
        f.children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
    };
    let code_node = child("faultcode")?;
    let code_text = crate::scenario::element_text(code_node).trim().to_owned();
    let (prefix, local) = match code_text.split_once(':') {
        Some((p, l)) => (Some(p), l.to_owned()),
        None => (None, code_text.clone()),
    };
    let code_namespace = prefix
        .and_then(|p| code_node.lookup_namespace_uri(Some(p)))
        .map(str::to_owned);
    Some(Fault {
        code_namespace,
        code_local: local,
        string: child("faultstring")
            .map(crate::scenario::element_text)
            .unwrap_or_default(),
        code_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use emr_catalog::ProfileId;
    use serde_json::json;

    #[test]
    fn args_become_the_wrapped_request_element() {
        let args = vec![
            ("arg1".to_owned(), json!(true)),
            (
                "arg0".to_owned(),
                json!({"providerNo": "999998", "demographicNo": 5, "notes": "a<b", "skip": null}),
            ),
        ];
        let c = Catalog::of(ProfileId::Oscar);
        let ordered = ordered_args(&c, "ScheduleService", "getAppointment2", &args);
        assert_eq!(ordered[0].0, "arg0", "the catalogue's order");
        let e = envelope("urn:t", "op", &ordered, None);
        assert_eq!(
            e,
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:tns=\"urn:t\">\
             <soapenv:Body><tns:op><arg0><providerNo>999998</providerNo><demographicNo>5</demographicNo>\
             <notes>a&lt;b</notes></arg0><arg1>true</arg1></tns:op></soapenv:Body></soapenv:Envelope>"
        );
        let list = [("arg0".to_owned(), json!([1, 2]))];
        let refs: Vec<&(String, Value)> = list.iter().collect();
        assert!(envelope("urn:t", "op", &refs, None).contains("<arg0>1</arg0><arg0>2</arg0>"));
    }

    #[test]
    fn faults_resolve_their_code_namespace() {
        let body = "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body><soap:Fault>\
                    <faultcode xmlns:x='http://ws.apache.org/wss4j'>x:SecurityError</faultcode>\
                    <faultstring>nope</faultstring></soap:Fault></soap:Body></soap:Envelope>";
        let doc = parse_response(body).unwrap();
        let f = fault(&doc).unwrap();
        assert_eq!(
            f.code_namespace.as_deref(),
            Some("http://ws.apache.org/wss4j")
        );
        assert_eq!(f.code_local, "SecurityError");
        assert_eq!(f.string, "nope");
        assert!(parse_response("<!DOCTYPE x [<!ENTITY e 'x'>]><x>&e;</x>").is_err());
    }
}
