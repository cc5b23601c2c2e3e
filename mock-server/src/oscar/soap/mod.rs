//! OSCAR's JAX-WS services on CXF: every service of the profile's
//! catalogue at `{context}/ws/<Name>Service`, SOAP 1.1 document/literal
//! wrapped, with `?wsdl`.
//!
//! A request goes through the same stages as in CXF: the body is read
//! within the size limit and parsed without DTDs; the envelope must be
//! SOAP 1.1; headers marked `mustUnderstand` must be understood; the
//! WS-Security interceptor runs on the authenticated services; the body's
//! wrapper element picks the operation; the arguments are unmarshalled by
//! the operation's signature; the behaviour table answers; the result is
//! marshalled as JAXB does. Every failure is a SOAP fault, never a panic.

pub mod booking;
pub mod dispatch;
pub mod dom;
pub mod fault;
pub mod labs;
pub mod ops;
pub mod transfer;
pub mod wsdl;
pub mod xml;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use chrono::{DateTime, Utc};
use emr_catalog::{signature, Catalog, Operation, Profile, Signature, SoapTypes};
use parking_lot::Mutex;
use tower_http::compression::predicate::SizeAbove;
use tower_http::compression::CompressionLayer;

use self::booking::SlotSigner;
use self::dispatch::Call;
use self::fault::{SecurityDialect, SoapFault};
use self::xml::{EnvelopeError, Obj, Val, SOAP11_ENV, WSSE};
use super::wss::{self, WssState};
use crate::body;
use crate::clock::Clock;
use crate::journal::OperationId;
use crate::state::AppState;

/// SOAP state beside the store: WS-Security, booking references, and
/// Juno's integration settings.
#[derive(Debug)]
pub struct SoapState {
    pub wss: WssState,
    pub slots: SlotSigner,
    /// `IntegrationService.updateIntegration`, by site and type.
    pub integrations: Mutex<BTreeMap<String, Obj>>,
    /// Each service's operations and signatures, worked out from the
    /// catalogue on the first call (they never change) rather than on
    /// every request.
    services: OnceLock<HashMap<String, Service>>,
}

/// One service of the catalogue: its operations (indexes into the
/// catalogue) and their typed signatures, in catalogue order.
#[derive(Debug)]
struct Service {
    ops: Vec<usize>,
    sigs: Vec<Signature>,
}

impl SoapState {
    fn services(&self, catalog: &Catalog) -> &HashMap<String, Service> {
        self.services.get_or_init(|| {
            let index = |op: &Operation| {
                catalog
                    .operations()
                    .iter()
                    .position(|o| std::ptr::eq(o, op))
                    .unwrap_or(0)
            };
            catalog
                .soap_services()
                .into_iter()
                .map(|(name, ops)| {
                    let service = Service {
                        ops: ops.iter().map(|o| index(o)).collect(),
                        sigs: ops.iter().filter_map(|o| signature(o).ok()).collect(),
                    };
                    (name.to_owned(), service)
                })
                .collect()
        })
    }
}

impl SoapState {
    pub fn new(clock: &Clock) -> SoapState {
        let now: DateTime<Utc> = clock.now();
        SoapState {
            wss: WssState::new(now),
            slots: SlotSigner::new(&now.timestamp_nanos_opt().unwrap_or(0).to_le_bytes()),
            integrations: Mutex::new(BTreeMap::new()),
            services: OnceLock::new(),
        }
    }

    pub fn reset(&self) {
        self.wss.reset();
        self.integrations.lock().clear();
    }
}

/// A route per SOAP service of the profile; responses are gzipped when
/// the client accepts it, whatever their size (`@GZIP(threshold=0)`).
pub fn routes(profile: &Profile) -> Router<AppState> {
    let catalog = emr_catalog::Catalog::of(profile.id);
    let mut router = Router::new();
    for service in catalog.soap_services().keys() {
        router = router.route(&format!("{}/ws/{service}", profile.context), any(endpoint));
    }
    router.layer(
        CompressionLayer::new()
            .gzip(true)
            .compress_when(SizeAbove::new(0)),
    )
}

/// How a variant's stack behaves where the variants differ.
fn dialect(variant: &str) -> SecurityDialect {
    if variant == "oscar19" {
        SecurityDialect::Wss4j16
    } else {
        SecurityDialect::Wss4j2
    }
}

async fn endpoint(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let service = path.rsplit('/').next().unwrap_or_default();
    let profile: &'static Profile = state.profile;
    let tns = profile.soap_namespace.as_deref().unwrap_or_default();
    let variant = profile.variant.as_str();
    let dialect = dialect(variant);
    let Some(entry) = state.soap.services(&state.catalog).get(service) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let sigs = &entry.sigs;
    let wants_wsdl = req.uri().query().is_some_and(|q| {
        q.split('&').any(|p| {
            p.split('=')
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case("wsdl"))
        })
    });
    match *req.method() {
        Method::GET if wants_wsdl => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
                .to_owned();
            let address = format!("http://{host}{path}");
            let all = state.catalog.operations();
            let ops: Vec<&Operation> = entry.ops.iter().filter_map(|&i| all.get(i)).collect();
            return match wsdl::generate(&ops, variant, tns, &address) {
                Some(w) => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
                    w,
                )
                    .into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            };
        }
        Method::POST => {}
        Method::GET => {
            return SoapFault::server(
                "No binding operation info while invoking unknown method with params unknown.",
            )
            .render(dialect, tns)
        }
        _ => {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, POST")],
            )
                .into_response()
        }
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let bytes = match body::read(req.into_body(), state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return SoapFault::client(e.to_string()).render(dialect, tns),
    };
    let (result, op_id) = handle(&state, service, sigs, tns, variant, &bytes, ip).await;
    let mut response = match result {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
            body,
        )
            .into_response(),
        Err(f) => f.render(dialect, tns),
    };
    if let Some(id) = op_id {
        response.extensions_mut().insert(OperationId(id));
    }
    response
}

/// Parses, authenticates, dispatches and marshals one call. Returns the
/// response envelope or the fault, and the operation it addressed.
async fn handle(
    state: &AppState,
    service: &str,
    sigs: &[Signature],
    tns: &str,
    variant: &str,
    bytes: &[u8],
    ip: Option<String>,
) -> (Result<Vec<u8>, SoapFault>, Option<String>) {
    let dialect = dialect(variant);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return (
            Err(SoapFault::client(
                "Unmarshalling Error: the request is not UTF-8",
            )),
            None,
        );
    };
    let doc = match xml::parse(text) {
        Ok(d) => d,
        Err(e) => return (Err(envelope_fault(e)), None),
    };
    let env = match xml::envelope(&doc) {
        Ok(e) => e,
        Err(e) => return (Err(envelope_fault(e)), None),
    };
    let auth = sigs.first().is_some_and(|s| s.auth);
    if let Some(f) = not_understood(env.header, auth) {
        return (Err(f), None);
    }
    let login = if auth {
        match wss::authenticate(state, env.header, dialect, ip.as_deref()).await {
            Ok(v) => Some(v.login),
            Err(f) => return (Err(SoapFault::Security(f)), None),
        }
    } else {
        None
    };
    let wrapper = env.wrapper;
    let name = wrapper.tag_name();
    let found = sigs
        .iter()
        .find(|s| s.operation == name.name() && name.namespace() == Some(tns));
    let Some(sig) = found else {
        let got = format!("{{{}}}{}", name.namespace().unwrap_or(""), name.name());
        let expected = if sigs.iter().any(|s| s.operation == name.name()) {
            format!("{{{tns}}}{}", name.name())
        } else {
            format!(
                "an operation of {{{tns}}}{}",
                sigs.first().map_or("", |s| s.class.as_str())
            )
        };
        return (
            Err(SoapFault::client(format!(
                "Unexpected wrapper element {got} found.   Expected {expected}."
            ))),
            None,
        );
    };
    let op_id = format!("{service}.{}", sig.operation);
    let types = SoapTypes::of(variant);
    let args = match read_args(wrapper, sig, types) {
        Ok(a) => a,
        Err(f) => return (Err(f), Some(op_id)),
    };
    let mut call = Call {
        state,
        sig,
        types,
        variant,
        args,
        login,
        ip,
        delay: false,
    };
    // The envelope is written around the return in one buffer, dropped
    // on a fault.
    let op = sig.operation.as_bytes();
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"<soap:Envelope xmlns:soap=\"");
    out.extend_from_slice(SOAP11_ENV.as_bytes());
    out.extend_from_slice(b"\"><soap:Body><ns2:");
    out.extend_from_slice(op);
    out.extend_from_slice(b"Response xmlns:ns2=\"");
    out.extend_from_slice(crate::error::xml_escape(tns).as_bytes());
    out.extend_from_slice(b"\">");
    let result = dispatch::reply(&mut call, &mut out);
    if call.delay {
        tokio::time::sleep(state.config.wss_failure_delay).await;
    }
    let result = result.map(|()| {
        out.extend_from_slice(b"</ns2:");
        out.extend_from_slice(op);
        out.extend_from_slice(b"Response></soap:Body></soap:Envelope>");
        out
    });
    (result, Some(op_id))
}

fn envelope_fault(e: EnvelopeError) -> SoapFault {
    match e {
        EnvelopeError::Malformed(m) => SoapFault::client(m),
        EnvelopeError::VersionMismatch(m) => SoapFault::VersionMismatch(m),
        EnvelopeError::NoBody => {
            SoapFault::client("No SOAP Body element with an operation was found.")
        }
    }
}

/// CXF's `MustUnderstandInterceptor`: a header marked `mustUnderstand`
/// that no interceptor processes fails the call. Only the WS-Security
/// interceptor of the authenticated services understands anything.
fn not_understood(header: Option<dom::Node>, auth: bool) -> Option<SoapFault> {
    let header = header?;
    let bad: Vec<String> = header
        .children()
        .filter(|h| {
            h.attribute((SOAP11_ENV, "mustUnderstand"))
                .is_some_and(|v| v == "1" || v == "true")
        })
        .filter(|h| !(auth && h.has_tag_name((WSSE, "Security"))))
        .map(|h| {
            format!(
                "{{{}}}{}",
                h.tag_name().namespace().unwrap_or(""),
                h.tag_name().name()
            )
        })
        .collect();
    if bad.is_empty() {
        None
    } else {
        Some(SoapFault::MustUnderstand(format!(
            "MustUnderstand headers: [{}] are not understood.",
            bad.join(", ")
        )))
    }
}

/// Unmarshals the wrapper's children by the signature: named elements,
/// repeated for arrays; an absent primitive is its Java default.
fn read_args(
    wrapper: dom::Node,
    sig: &Signature,
    types: &SoapTypes,
) -> Result<Vec<Option<Val>>, SoapFault> {
    let mut args = Vec::with_capacity(sig.params.len());
    for p in &sig.params {
        let mut items = Vec::new();
        for node in xml::children(wrapper, &p.name) {
            if let Some(v) = xml::read(node, p, types).map_err(SoapFault::client)? {
                items.push(v);
            }
        }
        let value = if p.many {
            Some(Val::List(items))
        } else {
            items.pop()
        };
        let value = match value {
            None if p.primitive => Some(match p.ty {
                emr_catalog::TypeRef::Xs(emr_catalog::Xsd::Boolean) => Val::Bool(false),
                _ => Val::Int(0),
            }),
            v => v,
        };
        args.push(value);
    }
    Ok(args)
}
