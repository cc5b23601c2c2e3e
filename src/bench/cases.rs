//! What the bench measures: one row per authenticated read, each with the
//! credentials it carries and the status it must get. A row is data, so
//! pointing a case at another operation (the OSCAR REST demographic read
//! once it is served) is a one-line change of its `path`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::Engine;
use chrono::{SecondsFormat, Utc};
use emr_catalog::ProfileId;
use emr_harness::auth::oauth1::{self, Credentials, Signing};
use emr_harness::transport::HttpRequest;
use emr_mock::AppState;

use super::loadgen::{self, write_request, RequestSource};

/// How a case's requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// OSCAR OAuth 1.0a: every request signed afresh (HMAC-SHA1, a new
    /// nonce and timestamp) with a seeded client's access token, in the
    /// `Authorization` header.
    OAuth1,
    /// OSCAR WS-Security UsernameToken (PasswordText, with a fresh Nonce
    /// and Created on every request, as WSS4J clients send them); the
    /// case's body holds `{security}` where the header goes.
    Wss,
    /// OpenEMR bearer token from the password grant of the seeded
    /// confidential client, with the case's scope.
    Bearer(&'static str),
}

/// One benchmark case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    pub profile: ProfileId,
    pub auth: Auth,
    pub method: &'static str,
    /// Path and query; `{patient_uuid}` is patient 1's uuid.
    pub path: &'static str,
    pub body: &'static str,
    pub expect: u16,
    /// In the default selection (the issue's four reads); the others are
    /// for scale runs (`--cases search`).
    pub default: bool,
    pub about: &'static str,
}

const SOAP_GET_DEMOGRAPHIC: &str = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:tns=\"http://ws.oscarehr.org/\"><soapenv:Header>{security}</soapenv:Header><soapenv:Body><tns:getDemographic><arg0>1</arg0></tns:getDemographic></soapenv:Body></soapenv:Envelope>";
const SOAP_SEARCH_BY_NAME: &str = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:tns=\"http://ws.oscarehr.org/\"><soapenv:Header>{security}</soapenv:Header><soapenv:Body><tns:searchDemographicByName><arg0>Smith,Ol</arg0><arg1>0</arg1><arg2>10</arg2></tns:searchDemographicByName></soapenv:Body></soapenv:Envelope>";

/// The OAuth 1.0a-signed read of the `oscar-oauth1-read` case: the
/// demographic read an integration makes most.
pub const OSCAR_OAUTH1_READ_PATH: &str = "/oscar/ws/services/demographics/1";

const API_SCOPE: &str = "openid api:oemr api:fhir user/patient.read user/Patient.read";

/// The cases, in the order they run.
pub const CASES: &[Case] = &[
    Case {
        name: "oscar-oauth1-read",
        profile: ProfileId::Oscar,
        auth: Auth::OAuth1,
        method: "GET",
        path: OSCAR_OAUTH1_READ_PATH,
        body: "",
        expect: 200,
        default: true,
        about:
            "OAuth 1.0a-signed GET /ws/services/demographics/1 (HMAC-SHA1, fresh nonce per request)",
    },
    Case {
        name: "oscar-soap-getDemographic",
        profile: ProfileId::Oscar,
        auth: Auth::Wss,
        method: "POST",
        path: "/oscar/ws/DemographicService",
        body: SOAP_GET_DEMOGRAPHIC,
        expect: 200,
        default: true,
        about: "SOAP DemographicService.getDemographic with a WS-Security UsernameToken",
    },
    Case {
        name: "openemr-api-patient-read",
        profile: ProfileId::OpenEmr,
        auth: Auth::Bearer(API_SCOPE),
        method: "GET",
        path: "/apis/default/api/patient/{patient_uuid}",
        body: "",
        expect: 200,
        default: true,
        about: "Standard API GET /api/patient/:puuid with a bearer token",
    },
    Case {
        name: "openemr-fhir-patient-search",
        profile: ProfileId::OpenEmr,
        auth: Auth::Bearer(API_SCOPE),
        method: "GET",
        path: "/apis/default/fhir/Patient?family=Smith&given=Olivia",
        body: "",
        expect: 200,
        default: true,
        about: "FHIR GET /fhir/Patient?family=&given= with a bearer token",
    },
    Case {
        name: "oscar-soap-name-search",
        profile: ProfileId::Oscar,
        auth: Auth::Wss,
        method: "POST",
        path: "/oscar/ws/DemographicService",
        body: SOAP_SEARCH_BY_NAME,
        expect: 200,
        default: false,
        about: "SOAP searchDemographicByName(\"Smith,Ol\", 0, 10): OSCAR's quick name search",
    },
    Case {
        name: "oscar-rest-quick-search",
        profile: ProfileId::Oscar,
        auth: Auth::OAuth1,
        method: "GET",
        path: "/oscar/ws/services/demographics/quickSearch?query=Smith%2COl",
        body: "",
        expect: 200,
        default: false,
        about: "OAuth 1.0a-signed GET /ws/services/demographics/quickSearch?query=Smith,Ol (the REST quick search, first 10 of all matches)",
    },
    Case {
        name: "openemr-api-patient-search",
        profile: ProfileId::OpenEmr,
        auth: Auth::Bearer(API_SCOPE),
        method: "GET",
        path: "/apis/default/api/patient?lname=Smith&fname=Olivia",
        body: "",
        expect: 200,
        default: false,
        about: "Standard API GET /api/patient?lname=&fname= (name search)",
    },
];

/// Selects cases: none given means the default ones; `all`, a case name,
/// or a word every selected name contains (`search`).
pub fn select(names: &[String]) -> Result<Vec<Case>, String> {
    if names.is_empty() {
        return Ok(CASES.iter().filter(|c| c.default).copied().collect());
    }
    let mut out: Vec<Case> = Vec::new();
    for n in names.iter().flat_map(|n| n.split(',')).map(str::trim) {
        let found: Vec<Case> = CASES
            .iter()
            .filter(|c| n == "all" || c.name == n || c.name.contains(n))
            .copied()
            .collect();
        if found.is_empty() {
            let known: Vec<&str> = CASES.iter().map(|c| c.name).collect();
            return Err(format!(
                "no bench case `{n}` (cases: {}, or `all`)",
                known.join(", ")
            ));
        }
        for c in found {
            if !out.iter().any(|o| o.name == c.name) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// Builds the source of a case's requests against a running mock:
/// obtains its credentials the way a client would (or, for OAuth 1.0a,
/// an access token approved for the demo provider in the mock's state).
pub async fn source(
    case: &Case,
    state: &AppState,
    addr: SocketAddr,
) -> Result<Arc<dyn RequestSource>, String> {
    let path = match case.path.contains("{patient_uuid}") {
        true => {
            let uuid = state
                .default_site()
                .store
                .read(|d| d.patients().get(1).map(|p| p.uuid.to_string()))
                .ok_or("the mock has no patient 1")?;
            case.path.replace("{patient_uuid}", &uuid)
        }
        false => case.path.to_owned(),
    };
    Ok(match case.auth {
        Auth::OAuth1 => Arc::new(OAuth1Source::approved(case, state, addr, path)?),
        Auth::Wss => Arc::new(WssSource {
            method: case.method,
            addr,
            path,
            body: case.body,
            counter: AtomicU64::new(0),
        }),
        Auth::Bearer(scope) => {
            let token = password_grant(addr, scope).await?;
            let auth = format!("Bearer {token}");
            Arc::new(loadgen::request(
                case.method,
                addr,
                &path,
                &[("Authorization", &auth), ("Accept", "application/json")],
                case.body.as_bytes(),
            ))
        }
    })
}

/// Signs every request with OAuth 1.0a, using the harness's signer (the
/// `oauth1-request` crate, independent of the mock's verifier).
pub struct OAuth1Source {
    method: &'static str,
    addr: SocketAddr,
    path: String,
    url: String,
    consumer_key: String,
    consumer_secret: String,
    token: String,
    token_secret: String,
}

/// An OAuth 1.0a client's key and secret with an access token and its
/// secret.
#[derive(Debug, Clone)]
pub struct OAuth1Token {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub token: String,
    pub token_secret: String,
}

/// A token for the seeded "Online Booking" client, approved by the demo
/// provider: what `/ws/oauth/authorize` and `/ws/oauth/token` leave behind,
/// put straight into the mock's state.
pub fn approved_oauth1_token(state: &AppState) -> Result<OAuth1Token, String> {
    let site = state.default_site();
    let client = site
        .oauth1
        .clients()
        .into_iter()
        .next()
        .ok_or("the mock has no OAuth 1.0a client")?;
    let now = state.clock.now();
    let rt = site.oauth1.create_request_token(
        &client.key,
        Some(client.callback()),
        Vec::new(),
        &state.rng,
        now,
    );
    site.oauth1.update_request_token(&rt.token, |t| {
        t.provider_no = Some(emr_mock::store::seed::accounts::OSCAR_PROVIDER_NO.to_owned());
    });
    let at = site
        .oauth1
        .exchange(&rt.token, client.lifetime, &state.rng, now)
        .ok_or("the request token could not be exchanged")?;
    Ok(OAuth1Token {
        consumer_key: client.key,
        consumer_secret: client.secret,
        token: at.token,
        token_secret: at.secret,
    })
}

impl OAuth1Source {
    fn approved(
        case: &Case,
        state: &AppState,
        addr: SocketAddr,
        path: String,
    ) -> Result<OAuth1Source, String> {
        let t = approved_oauth1_token(state)?;
        Ok(OAuth1Source {
            method: case.method,
            addr,
            url: format!("http://{addr}{path}"),
            path,
            consumer_key: t.consumer_key,
            consumer_secret: t.consumer_secret,
            token: t.token,
            token_secret: t.token_secret,
        })
    }
}

impl RequestSource for OAuth1Source {
    fn write(&self, _conn: usize, _seq: u64, out: &mut Vec<u8>) {
        let mut req = HttpRequest {
            method: self.method.to_owned(),
            url: self.url.clone(),
            headers: Vec::new(),
            body: None,
        };
        let creds = Credentials {
            consumer_key: &self.consumer_key,
            consumer_secret: &self.consumer_secret,
            token: Some((&self.token, &self.token_secret)),
            callback: None,
            verifier: None,
        };
        // Signing cannot fail for a well-formed URL; a failure shows as a
        // refused request in the counts.
        let _ = oauth1::sign(&mut req, &creds, &Signing::default());
        let headers: Vec<(&str, &str)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        write_request(out, self.method, self.addr, &self.path, &headers, b"");
    }
}

/// A SOAP request with a fresh WS-Security UsernameToken each time.
pub struct WssSource {
    method: &'static str,
    addr: SocketAddr,
    path: String,
    body: &'static str,
    counter: AtomicU64,
}

impl RequestSource for WssSource {
    fn write(&self, _conn: usize, _seq: u64, out: &mut Vec<u8>) {
        use emr_mock::store::seed::accounts;
        // Unique within the run and across runs: a per-run random prefix
        // is not needed because each run starts a fresh mock.
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&n.to_be_bytes());
        raw[8..].copy_from_slice(&0x5EED_BE4C_u64.to_be_bytes());
        let nonce = base64::engine::general_purpose::STANDARD.encode(raw);
        let created = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let security = format!(
            "<wsse:Security xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\" xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\"><wsse:UsernameToken><wsse:Username>{}</wsse:Username><wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">{}</wsse:Password><wsse:Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-soap-message-security-1.0#Base64Binary\">{nonce}</wsse:Nonce><wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>",
            accounts::OSCAR_SECURITY_NO,
            xml_text(accounts::OSCAR_PASSWORD),
        );
        let body = self.body.replace("{security}", &security);
        write_request(
            out,
            self.method,
            self.addr,
            &self.path,
            &[
                ("Content-Type", "text/xml; charset=utf-8"),
                ("SOAPAction", "\"\""),
            ],
            body.as_bytes(),
        );
    }
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;")
}

/// An access token from the OpenEMR password grant of the seeded
/// confidential client, as `/__admin/credentials` describes it (the grant
/// is switched on first, as an administrator would).
async fn password_grant(addr: SocketAddr, scope: &str) -> Result<String, String> {
    let on = br#"{"password_grant": true}"#;
    let set = loadgen::exchange(
        addr,
        &loadgen::request(
            "POST",
            addr,
            "/__admin/openemr/settings",
            &[("Content-Type", "application/json")],
            on,
        ),
    )
    .await
    .map_err(|e| format!("settings: {e}"))?;
    if set.status != 200 {
        return Err(format!(
            "enabling the password grant answered {}",
            set.status
        ));
    }
    let creds = loadgen::exchange(
        addr,
        &loadgen::request("GET", addr, "/__admin/credentials", &[], b""),
    )
    .await
    .map_err(|e| format!("credentials: {e}"))?;
    let creds: serde_json::Value =
        serde_json::from_slice(&creds.body).map_err(|e| format!("credentials: {e}"))?;
    let site = &creds["sites"]["default"];
    let client = site["oauth2"]["clients"]
        .as_array()
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["grant_types"].to_string().contains("password"))
        })
        .ok_or("no seeded client allows the password grant")?;
    let user = &site["users"][0];
    let enc = |s: &serde_json::Value| {
        url::form_urlencoded::byte_serialize(s.as_str().unwrap_or("").as_bytes())
            .collect::<String>()
    };
    let form = format!(
        "grant_type=password&user_role=users&client_id={}&client_secret={}&username={}&password={}&scope={}",
        enc(&client["client_id"]),
        enc(&client["client_secret"]),
        enc(&user["username"]),
        enc(&user["password"]),
        url::form_urlencoded::byte_serialize(scope.as_bytes()).collect::<String>(),
    );
    let resp = loadgen::exchange(
        addr,
        &loadgen::request(
            "POST",
            addr,
            "/oauth2/default/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        ),
    )
    .await
    .map_err(|e| format!("token: {e}"))?;
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "the password grant answered {}: {}",
                resp.status,
                String::from_utf8_lossy(&resp.body)
            )
        })
}
