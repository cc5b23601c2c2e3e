//! OSCAR's REST operations, driven by data.
//!
//! A request that CXF routed to a catalogue operation and that the mount
//! authenticated goes through what CXF does before and after the resource
//! method, all generic and read from the operation's row:
//!
//! 1. content negotiation: `@Produces` against `Accept` or the `.json` /
//!    `.xml` extension (406), `@Consumes` against `Content-Type` (415);
//! 2. parameters converted to their declared Java types (404 when a path
//!    or query value does not convert, as JAX-RS says);
//! 3. the body read by the variant's JSON provider into the declared class
//!    (malformed JSON: an unmapped provider exception, HTTP 500 XMLFault in
//!    OSCAR 19 and Open-O; Juno's mapper answers 400);
//! 4. the operation's behaviour (`oscar/rest-behaviour.tsv`): a generic
//!    kind or a hand-written handler, producing a bean;
//! 5. the bean written as the declared response type in the variant's
//!    dialect: Jackson 2 + JAXB annotations (Open-O), Jackson 1 (OSCAR 19),
//!    Juno's `RestResponse` wrapper with ISO dates, or JAXB XML; a type no
//!    provider can write in the negotiated media type is CXF's 500.

pub mod bean;
pub mod beans;
pub mod behaviour;
mod handlers;
pub mod input;
pub mod media;
pub mod render;
pub mod signature;
pub mod types;
pub mod wadl;

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use emr_catalog::{strip_media_extension, Operation, PathMatch, ProfileId};
use serde_json::{json, Value};

use self::behaviour::Behaviour;
use self::input::{BodyError, Param};
use self::types::JType;
use super::oauth1::params::Received;
use super::oauth1::resource::xml_fault;
use super::rest::{Mount, Principal};
use crate::error::{Dialect, Failure};
use crate::state::AppState;
use crate::store::{Data, Timestamp};

/// The three implementations, whose serialisers and errors differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    Oscar19 = 0,
    OpenO = 1,
    Juno = 2,
}

impl Variant {
    pub fn parse(s: &str) -> Option<Variant> {
        match s {
            "oscar19" | "oscar" => Some(Variant::Oscar19),
            "open-o" => Some(Variant::OpenO),
            "juno" => Some(Variant::Juno),
            _ => None,
        }
    }

    pub fn of(state: &AppState) -> Variant {
        Variant::parse(&state.profile.variant).unwrap_or(Variant::Oscar19)
    }

    /// The profile that runs the variant.
    pub fn profile(self) -> ProfileId {
        match self {
            Variant::Oscar19 => ProfileId::Oscar,
            Variant::OpenO => ProfileId::OpenO,
            Variant::Juno => ProfileId::Juno,
        }
    }

    /// The class name of the JSON provider's parse exception.
    fn parse_exception(self) -> &'static str {
        match self {
            Variant::Oscar19 => "org.codehaus.jackson.JsonParseException",
            _ => "com.fasterxml.jackson.core.JsonParseException",
        }
    }

    fn mapping_exception(self) -> &'static str {
        match self {
            Variant::Oscar19 => "org.codehaus.jackson.map.JsonMappingException",
            _ => "com.fasterxml.jackson.databind.exc.InvalidFormatException",
        }
    }
}

/// What a behaviour answers, before the dialect writes it.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A bean of the operation's declared response type.
    Value(Value),
    /// A bean of another type (for `Response`-typed operations).
    Typed(JType, Value),
    /// Another outcome with a different status.
    WithStatus(u16, Box<Outcome>),
    /// A status and no body (`void` is 204).
    Empty(u16),
    /// Bytes as they are (PDFs, images, streams, text).
    Raw {
        status: u16,
        content_type: String,
        body: Vec<u8>,
    },
    /// An exception escaping the resource: the mount's error dialect.
    Error(Failure),
    /// A CXF fault raised around the resource (provider errors): XMLFault
    /// in OSCAR 19 and Open-O.
    Fault(String),
}

/// Everything a behaviour reads.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub variant: Variant,
    pub mount: Mount,
    pub op: &'a Operation,
    pub behaviour: &'a Behaviour,
    pub principal: Option<Principal>,
    pub req: &'a Received,
    /// Path parameters, converted.
    pub path: BTreeMap<String, Value>,
    /// Declared query parameters, converted.
    pub query: BTreeMap<String, Value>,
    /// Every query pair, decoded.
    pub raw_query: Vec<(String, String)>,
    /// Form body pairs (form-encoded requests).
    pub form: Vec<(String, String)>,
    /// The body, bound to its declared class (null when none).
    pub body: Value,
    /// The body as text.
    pub text: String,
    /// The negotiated response media type.
    pub media: String,
    pub now: Timestamp,
}

impl Call<'_> {
    pub fn read<R>(&self, f: impl FnOnce(&Data) -> R) -> R {
        self.state.default_site().store.read(f)
    }

    pub fn write<R>(&self, f: impl FnOnce(&mut Data) -> R) -> R {
        self.state.default_site().store.write(f)
    }

    /// The stamp of the store's data, for what is derived from it (read
    /// inside [`Call::read`]).
    pub fn stamp(&self) -> u64 {
        self.state.default_site().store.stamp()
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    pub fn now_value(&self) -> Value {
        Value::String(
            self.now
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
    }

    /// A bean of the declared response type. JSON is written here, while
    /// the store is still read, straight from the bean's properties; other
    /// media types take its tree form to [`write`].
    pub fn bean(&self, b: &dyn bean::Bean) -> Outcome {
        let ty = self.response_type();
        let plain_class =
            matches!(ty, JType::Class(n, _) if n != "RestResponse" && n != "RestSearchResponse");
        if plain_class && media::is_json(&self.media) {
            let mut body = Vec::with_capacity(4096);
            render::write_bean(&mut body, ty, b, self.variant);
            return Outcome::Raw {
                status: 200,
                content_type: self.media.clone(),
                body,
            };
        }
        Outcome::Value(bean::to_value(b))
    }

    /// The declared response type.
    pub fn response_type(&self) -> &JType {
        &self.behaviour.sig.response_type
    }

    /// The logged-in provider, or the failure asking for it causes.
    pub fn login(&self) -> Result<Principal, Outcome> {
        self.principal.clone().ok_or_else(|| {
            Outcome::Error(Failure::Internal(
                "Authentication info is not available.".into(),
            ))
        })
    }

    pub fn provider_no(&self) -> String {
        self.principal
            .as_ref()
            .map(|p| p.provider_no.clone())
            .unwrap_or_default()
    }

    /// The property holding a records collection's id (declared in the seed).
    pub fn records_id_key(&self, coll: &str) -> String {
        self.read(|d| d.records.id_key(coll).to_owned())
    }

    /// A source of the behaviour table (`path.id`, `body.x`, `login`, a literal).
    pub fn source(&self, src: &str) -> Value {
        let src = src.trim();
        if let Some(k) = src.strip_prefix("path.") {
            return self.path.get(k).cloned().unwrap_or(Value::Null);
        }
        if let Some(k) = src.strip_prefix("query.") {
            if let Some(v) = self.query.get(k) {
                return v.clone();
            }
            return input::values(&self.raw_query, k)
                .into_iter()
                .next()
                .map_or(Value::Null, Value::String);
        }
        if let Some(k) = src.strip_prefix("form.") {
            return input::values(&self.form, k)
                .into_iter()
                .next()
                .map_or(Value::Null, Value::String);
        }
        if src == "body" {
            return self.body.clone();
        }
        if let Some(k) = src.strip_prefix("body.") {
            return behaviour::lookup(&self.body, k);
        }
        match src {
            "login" => self
                .principal
                .as_ref()
                .map_or(Value::Null, |p| Value::String(p.provider_no.clone())),
            "now" => self.now_value(),
            "today" => Value::String(self.today().to_string()),
            "null" => Value::Null,
            s if s.starts_with('\'') && s.ends_with('\'') && s.len() >= 2 => {
                Value::String(s[1..s.len() - 1].to_owned())
            }
            s => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned())),
        }
    }

    /// A path parameter as an integer.
    pub fn path_id(&self, name: &str) -> Option<i64> {
        let v = self.path.get(name)?;
        v.as_i64().or_else(|| render::plain(v).parse().ok())
    }

    pub fn query_id(&self, name: &str) -> Option<i64> {
        let v = self.source(&format!("query.{name}"));
        v.as_i64().or_else(|| render::plain(&v).trim().parse().ok())
    }
}

/// Serves one routed, authenticated operation.
pub fn handle(
    state: &AppState,
    mount: Mount,
    op: &Operation,
    params: &PathMatch,
    principal: Option<Principal>,
    req: &Received,
) -> Response {
    let variant = Variant::of(state);
    let Some(b) = behaviour::Table::of(variant).get(&op.id) else {
        // Every operation has a row (checked by the behaviour table's
        // tests); an operation without one is a defect, reported as one.
        return Failure::Internal(format!("no behaviour for `{}`", op.id))
            .in_dialect(Dialect::OscarRest)
            .into_response();
    };
    let dialect = error_dialect(variant, mount);
    let fault = |message: String| fault_response(variant, message);

    let sig = &b.sig;

    // 1. Negotiation.
    let (_, forced) = strip_media_extension(&req.path);
    let accept = req
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let Some(media) = media::negotiate(&sig.produces, accept, forced) else {
        return empty(StatusCode::NOT_ACCEPTABLE);
    };
    let has_body = !req.body.is_empty();
    if has_body && !media::accepts(&sig.consumes, req.content_type.as_deref()) {
        return empty(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    // 2. Parameters.
    let mut path = BTreeMap::new();
    for (name, raw) in &params.params {
        let raw = percent_encoding::percent_decode_str(strip_media_extension(raw).0)
            .decode_utf8_lossy()
            .into_owned();
        let undeclared;
        let p = match sig.path_param(name) {
            Some(p) => p,
            None => {
                undeclared = Param {
                    name: name.clone(),
                    ty: JType::Str,
                    default: None,
                };
                &undeclared
            }
        };
        match input::convert(p, &[raw]) {
            Ok(v) => path.insert(name.clone(), v),
            Err(_) => return empty(StatusCode::NOT_FOUND),
        };
    }
    let raw_query = input::query_pairs(&req.query);
    let mut query = BTreeMap::new();
    for p in &sig.query_params {
        match input::convert(p, &input::values(&raw_query, &p.name)) {
            Ok(v) => query.insert(p.name.clone(), v),
            Err(_) => return empty(StatusCode::NOT_FOUND),
        };
    }
    let is_form =
        crate::body::media_type(req.content_type.as_deref()) == "application/x-www-form-urlencoded";
    let form = if is_form {
        input::query_pairs(&String::from_utf8_lossy(&req.body))
    } else {
        Vec::new()
    };

    // 3. The body: bound by the JSON reader unless it is a form or XML.
    let text = String::from_utf8_lossy(&req.body).into_owned();
    let json_body = sig
        .json_body
        .as_ref()
        .filter(|_| !is_form && !media::is_xml(req.content_type.as_deref().unwrap_or("")));
    let body = match json_body {
        None => Value::Null,
        Some(ty) => match input::read_json(ty, &req.body) {
            Ok(v) => v,
            Err(BodyError::Parse(m)) => {
                return match variant {
                    Variant::Juno => {
                        juno_error(StatusCode::BAD_REQUEST, &format!("JSON parse error: {m}"))
                    }
                    _ => fault(format!("{}: {m}", variant.parse_exception())),
                }
            }
            Err(BodyError::Mapping(m)) => {
                return match variant {
                    Variant::Juno => {
                        juno_error(StatusCode::BAD_REQUEST, &format!("Invalid format: {m}"))
                    }
                    _ => fault(format!("{}: {m}", variant.mapping_exception())),
                }
            }
        },
    };

    let mut call = Call {
        state,
        variant,
        mount,
        op,
        behaviour: b,
        principal,
        req,
        path,
        query,
        raw_query,
        form,
        body,
        text,
        media,
        now: state.clock.now(),
    };
    // 4. The behaviour, 5. the writer.
    let outcome = behaviour::run(&mut call);
    write(&call, outcome, dialect)
}

/// How exceptions escaping a resource look: Juno maps them to JSON on
/// every mount; the others leave them to the container.
fn error_dialect(variant: Variant, mount: Mount) -> Dialect {
    match variant {
        Variant::Juno => Dialect::JunoRest,
        _ => mount.dialect(),
    }
}

fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// A CXF fault: the XML binding's XMLFault (HTTP 500); Juno's mapper turns
/// everything into its JSON error.
fn fault_response(variant: Variant, message: String) -> Response {
    match variant {
        Variant::Juno => juno_error(StatusCode::INTERNAL_SERVER_ERROR, "System error"),
        _ => xml_fault(&message),
    }
}

/// An empty list: an absent search page's items, a bean's empty list
/// properties.
static EMPTY_LIST: Value = Value::Array(Vec::new());

/// Juno's `RestResponseHeaders`: the build the server runs.
pub fn juno_headers() -> Value {
    json!({"buildDate": "2022-02-08T17:40:00", "buildTag": "27f985436f"})
}

/// Juno's error `RestResponse`.
pub fn juno_error(status: StatusCode, message: &str) -> Response {
    let body = json!({"headers": juno_headers(), "body": null, "error": {"message": message}, "status": "ERROR"});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Writes an outcome in the call's dialect and media type.
fn write(call: &Call<'_>, outcome: Outcome, dialect: Dialect) -> Response {
    match outcome {
        Outcome::Value(v) => typed(call, call.response_type(), v, 200),
        Outcome::Typed(t, v) => {
            // Juno declares RestResponse<T>: a handler's explicit type is the body's.
            let declared = call.response_type();
            match declared.class() {
                Some(w @ ("RestResponse" | "RestSearchResponse")) => {
                    let wrapped = types::JType::Class(w.to_owned(), vec![t]);
                    typed(call, &wrapped, v, 200)
                }
                _ => typed(call, &t, v, 200),
            }
        }
        Outcome::WithStatus(status, inner) => {
            let mut r = write(call, *inner, dialect);
            if let Ok(s) = StatusCode::from_u16(status) {
                *r.status_mut() = s;
            }
            r
        }
        Outcome::Empty(status) => StatusCode::from_u16(status)
            .unwrap_or(StatusCode::NO_CONTENT)
            .into_response(),
        Outcome::Raw {
            status,
            content_type,
            body,
        } => {
            let mut r =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r
        }
        Outcome::Error(f) => match dialect {
            Dialect::JunoRest => {
                let status = f.status();
                let message = match &f {
                    Failure::Internal(_) => "System error".to_owned(),
                    other => other.to_string(),
                };
                juno_error(status, &message)
            }
            d => f.in_dialect(d).into_response(),
        },
        Outcome::Fault(m) => fault_response(call.variant, m),
    }
}

/// A bean written as `ty` in the negotiated media type.
fn typed(call: &Call<'_>, ty: &JType, v: Value, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let media = call.media.as_str();
    let raw = |content_type: &str, body: Vec<u8>| {
        let mut r = (status, body).into_response();
        if let Ok(h) = HeaderValue::from_str(content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, h);
        }
        r
    };
    // `void`, and a null entity, are CXF's 204.
    let void = call.behaviour.sig.void && matches!(ty, JType::Any);
    if void || (v.is_null() && !matches!(ty, JType::Class(n, _) if n == "RestResponse")) {
        return StatusCode::NO_CONTENT.into_response();
    }
    // Strings (json-lib JSON, plain text) go out as written, whatever the
    // media type: CXF's primitive provider writes them.
    if *ty == JType::Str {
        return raw(media, render::plain(&v).into_bytes());
    }
    match ty {
        JType::Class(n, args) if n == "RestResponse" || n == "RestSearchResponse" => {
            let inner = args.first().cloned().unwrap_or(JType::Any);
            // `{"headers":…,"body":…,"error":null,"status":"SUCCESS"}`, the
            // body written straight from the bean.
            let mut headers = juno_headers();
            let (body_type, body) = if n == "RestSearchResponse" {
                let items = v.get("content").unwrap_or(&EMPTY_LIST);
                let count = items.as_array().map_or(0, Vec::len);
                if let Value::Object(m) = &mut headers {
                    m.insert("total".into(), v.get("total").cloned().unwrap_or(json!(0)));
                    m.insert("page".into(), v.get("page").cloned().unwrap_or(json!(1)));
                    m.insert(
                        "perPage".into(),
                        v.get("perPage").cloned().unwrap_or(json!(count)),
                    );
                }
                (JType::List(Box::new(inner)), items)
            } else {
                (inner, &v)
            };
            let mut out = Vec::with_capacity(1024);
            out.extend_from_slice(b"{\"headers\":");
            // Writing to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, &headers);
            out.extend_from_slice(b",\"body\":");
            render::write_json(&mut out, &body_type, body, call.variant);
            out.extend_from_slice(b",\"error\":null,\"status\":\"SUCCESS\"}");
            raw("application/json", out)
        }
        _ if media::is_json(media) => raw(media, render::json_bytes(ty, &v, call.variant)),
        _ if media::is_xml(media) => match render::xml_document(ty, &v, call.variant) {
            Ok(doc) => raw(media, doc.into_bytes()),
            Err(render::NoXmlWriter(class)) => no_writer(call.variant, &class, media),
        },
        _ => match v {
            Value::String(s) => raw(media, s.into_bytes()),
            other => raw(media, other.to_string().into_bytes()),
        },
    }
}

/// CXF's answer when no provider can write the entity in the media type.
fn no_writer(variant: Variant, class: &str, media: &str) -> Response {
    let message = match variant {
        Variant::Oscar19 => format!(
            "No message body writer has been found for response class {}.",
            class.rsplit('.').next().unwrap_or(class)
        ),
        _ => {
            format!("No message body writer has been found for class {class}, ContentType: {media}")
        }
    };
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain")],
        message,
    )
        .into_response()
}
