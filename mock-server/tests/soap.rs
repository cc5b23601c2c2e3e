//! The SOAP endpoints' refusals and guarantees that scenarios cannot
//! reach: limits, encodings, compression, account state, concurrency.
//! Each test fails if the check it covers is removed.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use emr_catalog::ProfileId;
use emr_mock::{MockConfig, MockServer};

const ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const TNS: &str = "http://ws.oscarehr.org/";

async fn mock(profile: ProfileId, tweak: impl FnOnce(&mut MockConfig)) -> MockServer {
    let mut c = MockConfig::new(profile);
    c.wss_failure_delay = Duration::ZERO;
    tweak(&mut c);
    MockServer::start_local(c).await.unwrap()
}

fn client() -> reqwest::Client {
    // No automatic decompression: the tests look at what is on the wire.
    reqwest::Client::builder().no_gzip().build().unwrap()
}

/// A UsernameToken header with any parts.
fn security(inner: &str) -> String {
    format!("<wsse:Security xmlns:wsse=\"{WSSE}\"><wsse:UsernameToken>{inner}</wsse:UsernameToken></wsse:Security>")
}

fn text_token(user: &str, password: &str) -> String {
    security(&format!(
        "<wsse:Username>{user}</wsse:Username><wsse:Password>{password}</wsse:Password>"
    ))
}

fn envelope(header: &str, body: &str) -> String {
    format!("<s:Envelope xmlns:s=\"{ENV}\"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>")
}

async fn post(
    server: &MockServer,
    service: &str,
    body: String,
) -> (u16, String, reqwest::header::HeaderMap) {
    let r = client()
        .post(format!("{}/oscar/ws/{service}", server.base_url()))
        .header("Content-Type", "text/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

const WHO_AM_I: &str = "<t:getLoggedInProviderTransfer xmlns:t=\"http://ws.oscarehr.org/\"/>";

#[tokio::test]
async fn an_oversized_envelope_is_a_fault_not_a_read() {
    let server = mock(ProfileId::Oscar, |c| c.max_body_bytes = 1024).await;
    let big = envelope(
        "",
        &format!(
            "<t:isAlive xmlns:t=\"{TNS}\">{}</t:isAlive>",
            "x".repeat(4096)
        ),
    );
    let (status, body, _) = post(&server, "SystemInfoService", big).await;
    assert_eq!(status, 500);
    assert!(
        body.contains("<faultcode>soap:Client</faultcode>"),
        "{body}"
    );
    assert!(body.contains("larger than 1024 bytes"), "{body}");
    let small = envelope("", &format!("<t:isAlive xmlns:t=\"{TNS}\"/>"));
    assert_eq!(post(&server, "SystemInfoService", small).await.0, 200);
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_a_client_fault() {
    let server = mock(ProfileId::OpenO, |_| {}).await;
    let r = client()
        .post(format!("{}/oscar/ws/SystemInfoService", server.base_url()))
        .body(vec![0x3c, 0xff, 0xfe, 0x3e])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let body = r.text().await.unwrap();
    assert!(body.contains("not UTF-8"), "{body}");
}

#[tokio::test]
async fn responses_are_gzipped_only_for_clients_that_accept_it() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    let url = format!("{}/oscar/ws/SystemInfoService", server.base_url());
    let body = envelope("", &format!("<t:isAlive xmlns:t=\"{TNS}\"/>"));
    let zipped = client()
        .post(&url)
        .header("Accept-Encoding", "gzip")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let bytes = zipped.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
    let plain = client().post(&url).body(body).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(plain
        .text()
        .await
        .unwrap()
        .contains("<return>alive</return>"));
    // The WSDL too (OSCAR's @GZIP applies to the whole endpoint).
    let wsdl = client()
        .get(format!("{url}?wsdl"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(wsdl.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn an_expired_account_cannot_log_in_by_any_route() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    let (status, _, _) = post(
        &server,
        "ProviderService",
        envelope(&text_token("128", "mac2002#"), WHO_AM_I),
    )
    .await;
    assert_eq!(status, 200);
    server.state().default_site().store.write(|d| {
        d.logins
            .update(128, chrono::Utc::now(), |l| {
                l.expires = NaiveDate::from_ymd_opt(2000, 1, 1)
            })
            .unwrap();
    });
    let (status, body, _) = post(
        &server,
        "ProviderService",
        envelope(&text_token("128", "mac2002#"), WHO_AM_I),
    )
    .await;
    assert_eq!(status, 500);
    assert!(body.contains("wsse:FailedAuthentication"), "{body}");
    let login = envelope(
        "",
        &format!(
            "<t:login2 xmlns:t=\"{TNS}\"><arg0>oscardoc</arg0><arg1>mac2002#</arg1></t:login2>"
        ),
    );
    let (status, body, _) = post(&server, "LoginService", login).await;
    assert_eq!(status, 500);
    assert!(body.contains("NotAuthorisedException"), "{body}");
    let audit = server.state().audit.snapshot(None);
    let last = audit
        .iter()
        .rev()
        .find(|e| e.action.starts_with("WS_LOGIN"))
        .unwrap();
    assert_eq!(last.action, "WS_LOGIN_FAILURE");
    assert_eq!(last.detail, "expired account");
}

#[tokio::test]
async fn a_token_dies_with_a_password_change() {
    let server = mock(ProfileId::OpenO, |_| {}).await;
    let login = envelope(
        "",
        &format!("<t:login xmlns:t=\"{TNS}\"><arg0>oscardoc</arg0><arg1>mac2002#</arg1></t:login>"),
    );
    let (_, body, _) = post(&server, "LoginService", login).await;
    let token = body
        .split("<securityTokenKey>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let call = || envelope(&text_token("128", &token), WHO_AM_I);
    assert_eq!(post(&server, "ProviderService", call()).await.0, 200);
    server.state().default_site().store.write(|d| {
        d.logins
            .update(128, chrono::Utc::now(), |l| l.password = "changed!".into())
            .unwrap();
    });
    let (status, body, _) = post(&server, "ProviderService", call()).await;
    assert_eq!(status, 500);
    assert!(body.contains("wss4j:SecurityError"), "{body}");
}

#[tokio::test]
async fn a_wrong_password_waits_before_it_fails() {
    let delay = Duration::from_millis(150);
    let server = mock(ProfileId::Oscar, |c| c.wss_failure_delay = delay).await;
    let started = Instant::now();
    let (status, _, _) = post(
        &server,
        "ProviderService",
        envelope(&text_token("128", "wrong"), WHO_AM_I),
    )
    .await;
    assert_eq!(status, 500);
    assert!(
        started.elapsed() >= delay,
        "the failure came back without the delay"
    );
}

#[tokio::test]
async fn incomplete_username_tokens_are_refused_with_their_own_faults() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    let cases = [
        ("<wsse:Password>mac2002#</wsse:Password>", "wsse:InvalidSecurityToken"),
        ("<wsse:Username>128</wsse:Username>", "wsse:FailedAuthentication"),
        (
            "<wsse:Username>128</wsse:Username><wsse:Password Type=\"urn:custom\">mac2002#</wsse:Password>",
            "wsse:FailedAuthentication",
        ),
    ];
    for (inner, code) in cases {
        let (status, body, _) = post(
            &server,
            "ProviderService",
            envelope(&security(inner), WHO_AM_I),
        )
        .await;
        assert_eq!(status, 500, "{inner}");
        assert!(body.contains(code), "{inner}: {body}");
    }
    let no_token = format!("<wsse:Security xmlns:wsse=\"{WSSE}\"/>");
    let (_, body, _) = post(&server, "ProviderService", envelope(&no_token, WHO_AM_I)).await;
    assert!(body.contains("wsse:InvalidSecurity<"), "{body}");
    // A missing Type is PasswordText.
    let (status, _, _) = post(
        &server,
        "ProviderService",
        envelope(&text_token("128", "mac2002#"), WHO_AM_I),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_reset_forgets_the_nonces() {
    let server = mock(ProfileId::Juno, |_| {}).await;
    let header = security(
        "<wsse:Username>128</wsse:Username><wsse:Password>mac2002#</wsse:Password><wsse:Nonce>bm9uY2U=</wsse:Nonce>",
    );
    let call = || {
        envelope(
            &header,
            "<t:getLoggedInProviderTransfer xmlns:t=\"http://v1.soap.external.ws.oscarehr.org/\"/>",
        )
    };
    assert_eq!(post(&server, "ProviderService", call()).await.0, 200);
    assert_eq!(
        post(&server, "ProviderService", call()).await.0,
        500,
        "replay"
    );
    server.state().reset(None, None);
    assert_eq!(post(&server, "ProviderService", call()).await.0, 200);
}

#[tokio::test]
async fn other_must_understand_headers_fail_the_call() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    let header = format!(
        "{}<x:Trace xmlns:x=\"urn:trace\" s:mustUnderstand=\"1\">on</x:Trace>",
        text_token("128", "mac2002#")
    );
    let (status, body, _) = post(&server, "ProviderService", envelope(&header, WHO_AM_I)).await;
    assert_eq!(status, 500);
    assert!(body.contains("soap:MustUnderstand"), "{body}");
    assert!(body.contains("{urn:trace}Trace"), "{body}");
    let optional = format!(
        "{}<x:Trace xmlns:x=\"urn:trace\">on</x:Trace>",
        text_token("128", "mac2002#")
    );
    assert_eq!(
        post(&server, "ProviderService", envelope(&optional, WHO_AM_I))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn the_journal_names_the_soap_operation() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    post(
        &server,
        "DemographicService",
        envelope(
            &text_token("128", "mac2002#"),
            &format!("<t:getDemographic xmlns:t=\"{TNS}\"><arg0>1</arg0></t:getDemographic>"),
        ),
    )
    .await;
    let entries = server.state().journal.entries(Some(1));
    assert_eq!(
        entries[0].operation.as_deref(),
        Some("DemographicService.getDemographic")
    );
    assert_eq!(entries[0].path(), "/oscar/ws/DemographicService");
}

#[tokio::test]
async fn an_uploaded_lab_lands_in_the_inbox_of_its_patient() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    let hin = server
        .state()
        .default_site()
        .store
        .read(|d| d.patients().get(2).unwrap().hin.clone());
    let hl7 = format!(
        "MSH|^~\\&amp;|CML|CML|OSCAR|MG|202601051200||ORU^R01|C1|P|2.3&#13;PID|1|{hin}&#13;OBR|1||ACC-9|X|||202601050930&#13;"
    );
    let body = format!(
        "<t:uploadCML xmlns:t=\"{TNS}\"><file_name>x.hl7</file_name><contents>{hl7}</contents><oscar_provider_no>100002</oscar_provider_no></t:uploadCML>"
    );
    let (status, text, _) = post(
        &server,
        "LabUploadService",
        envelope(&text_token("128", "mac2002#"), &body),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("&quot;success&quot;:1"), "{text}");
    let lab = server
        .state()
        .default_site()
        .store
        .read(|d| d.labs.iter().last().cloned().unwrap());
    assert_eq!(lab.patient, Some(2));
    assert_eq!(lab.provider_no, "100002");
    assert_eq!(lab.lab_type, "CML");
    assert_eq!(lab.accession, "ACC-9");
    assert_eq!(lab.status, "N");
}

#[tokio::test]
async fn acknowledgements_are_read_from_the_document() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    let id = server.state().default_site().store.write(|d| {
        d.documents.insert(emr_mock::store::Document {
            file_name: "a.pdf".into(),
            acknowledged_by: vec!["100001".into(), "100003".into()],
            ..Default::default()
        })
    });
    let body = format!(
        "<t:getProvidersThatHaveAcknowledgedDocument xmlns:t=\"{TNS}\"><arg0>{id}</arg0></t:getProvidersThatHaveAcknowledgedDocument>"
    );
    let (_, text, _) = post(
        &server,
        "DocumentService",
        envelope(&text_token("128", "mac2002#"), &body),
    )
    .await;
    assert_eq!(text.matches("<return>").count(), 2, "{text}");
    assert!(text.contains("<providerNo>100003</providerNo>"), "{text}");
}

#[tokio::test]
async fn two_clients_booking_one_slot_get_one_appointment() {
    let server = mock(ProfileId::OpenO, |_| {}).await;
    let header = text_token("128", "mac2002#");
    let today = chrono::Utc::now().date_naive();
    let find = format!(
        "<t:findAppointment xmlns:t=\"{TNS}\"><arg0>1</arg0><arg1>1</arg1><arg2>{today}T00:00:00-05:00</arg2></t:findAppointment>"
    );
    let (_, found, _) = post(&server, "BookingService", envelope(&header, &find)).await;
    let slot = found
        .split("<encString>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let book = envelope(
        &header,
        &format!("<t:bookAppointment xmlns:t=\"{TNS}\"><arg0>{slot}</arg0><arg1>n</arg1></t:bookAppointment>"),
    );
    let before = server
        .state()
        .default_site()
        .store
        .read(|d| d.appointments().len());
    let (a, b) = tokio::join!(
        post(&server, "BookingService", book.clone()),
        post(&server, "BookingService", book.clone())
    );
    let outcomes = [a.1, b.1];
    let booked = outcomes
        .iter()
        .filter(|t| t.contains("<appointmentTime>"))
        .count();
    let refused = outcomes
        .iter()
        .filter(|t| t.contains("<code>DOUBLE_BOOKED</code>"))
        .count();
    assert_eq!((booked, refused), (1, 1), "{outcomes:?}");
    let after = server
        .state()
        .default_site()
        .store
        .read(|d| d.appointments().len());
    assert_eq!(after, before + 1);
}

/// Reads of one row by id are kept written while the store keeps its
/// stamp: a change to the row shows at once, and the `useGMTTime` flag
/// picks its own text.
#[tokio::test]
async fn a_row_read_by_id_shows_its_changes_and_its_zone() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    let get = |service: &'static str, body: String| {
        let server = &server;
        async move {
            let (status, text, _) = post(
                server,
                service,
                envelope(&text_token("128", "mac2002#"), &body),
            )
            .await;
            assert_eq!(status, 200, "{text}");
            text
        }
    };
    let demographic =
        || format!("<t:getDemographic xmlns:t=\"{TNS}\"><arg0>1</arg0></t:getDemographic>");
    let before = get("DemographicService", demographic()).await;
    assert_eq!(get("DemographicService", demographic()).await, before);
    server.state().default_site().store.write(|d| {
        d.update_patient(1, chrono::Utc::now(), |p| p.last_name = "Rewritten".into())
            .unwrap();
    });
    let after = get("DemographicService", demographic()).await;
    assert!(after.contains("<lastName>Rewritten</lastName>"), "{after}");
    assert!(!before.contains("Rewritten"));

    let appointment = server
        .state()
        .default_site()
        .store
        .read(|d| d.appointments().iter().next().unwrap().id);
    let schedule = |gmt: bool| {
        get(
            "ScheduleService",
            format!(
                "<t:getAppointment2 xmlns:t=\"{TNS}\"><arg0>{appointment}</arg0><arg1>{gmt}</arg1></t:getAppointment2>"
            ),
        )
    };
    let local = schedule(false).await;
    let utc = schedule(true).await;
    assert_ne!(local, utc, "the zone changes the instants");
    assert_eq!(schedule(false).await, local);
    assert_eq!(schedule(true).await, utc);
}
