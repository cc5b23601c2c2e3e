//! SOAP calls with a WS-Security password, for the integration tests.

use emr_mock::MockServer;

pub const ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";

/// The profile's SOAP namespace.
pub fn tns(server: &MockServer) -> &'static str {
    server
        .state()
        .profile
        .soap_namespace
        .as_deref()
        .unwrap_or("http://ws.oscarehr.org/")
}

/// An envelope for `op` with `args` (the wrapper's children), signed in as
/// `oscardoc` (security number 128).
pub fn call(server: &MockServer, op: &str, args: &str) -> String {
    let tns = tns(server);
    format!(
        "<s:Envelope xmlns:s=\"{ENV}\"><s:Header><wsse:Security xmlns:wsse=\"{WSSE}\"><wsse:UsernameToken>\
         <wsse:Username>128</wsse:Username><wsse:Password>mac2002#</wsse:Password></wsse:UsernameToken></wsse:Security></s:Header>\
         <s:Body><t:{op} xmlns:t=\"{tns}\">{args}</t:{op}></s:Body></s:Envelope>"
    )
}

pub fn request(
    client: &reqwest::Client,
    server: &MockServer,
    service: &str,
    envelope: String,
) -> reqwest::RequestBuilder {
    client
        .post(format!("{}/oscar/ws/{service}", server.base_url()))
        .header("Content-Type", "text/xml; charset=UTF-8")
        .body(envelope)
}

pub async fn send(server: &MockServer, service: &str, envelope: String) -> (u16, String) {
    let r = request(&reqwest::Client::new(), server, service, envelope)
        .send()
        .await
        .expect("the mock answers");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// Every text of `<tag>` elements in a body, in order.
pub fn texts(body: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    body.split(&open)
        .skip(1)
        .filter_map(|s| s.split(&close).next())
        .map(str::to_owned)
        .collect()
}
