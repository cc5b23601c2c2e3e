//! Hostile input: every request gets its dialect's refusal within a
//! bounded time, the server keeps serving, and nothing stored is lost or
//! changed. Each test fails if the limit or check it covers is removed
//! (the header deadline, the body deadline, the header limits, the JSON
//! depth limit, DTD refusal, the duplicate-free store, ...).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use base64::Engine;
use emr_catalog::ProfileId;
use emr_mock::{MockConfig, MockServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;

const ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const TNS: &str = "http://ws.oscarehr.org/";
const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";

async fn mock(profile: ProfileId, tweak: impl FnOnce(&mut MockConfig)) -> MockServer {
    let mut c = MockConfig::new(profile);
    c.wss_failure_delay = Duration::ZERO;
    tweak(&mut c);
    MockServer::start_local(c).await.unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A digest of everything every site stores.
fn fingerprint(server: &MockServer) -> u64 {
    let mut h = DefaultHasher::new();
    for site in server.state().sites() {
        site.store.read(|d| format!("{d:?}")).hash(&mut h);
    }
    h.finish()
}

fn envelope(header: &str, body: &str) -> String {
    format!("<s:Envelope xmlns:s=\"{ENV}\"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>")
}

fn is_alive() -> String {
    envelope("", &format!("<t:isAlive xmlns:t=\"{TNS}\"/>"))
}

async fn soap(server: &MockServer, service: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
    let r = client()
        .post(format!("{}/oscar/ws/{service}", server.base_url()))
        .header("Content-Type", "text/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Sends raw bytes on a new connection and reads until the server closes
/// or `wait` passes; the text received.
async fn raw(server: &MockServer, bytes: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn still_serves(server: &MockServer) {
    let (status, body) = soap(server, "SystemInfoService", is_alive()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<return>alive</return>"), "{body}");
}

#[tokio::test]
async fn oversized_headers_get_the_containers_400() {
    let oscar = mock(ProfileId::Oscar, |_| {}).await;
    let r = client()
        .get(format!(
            "{}/oscar/ws/rs/status/checkIfAuthed",
            oscar.base_url()
        ))
        .header("X-Filler", "a".repeat(9000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Request header is too large"));
    // Just under Tomcat's 8 KiB all is well.
    let r = client()
        .get(format!(
            "{}/oscar/ws/rs/status/checkIfAuthed",
            oscar.base_url()
        ))
        .header("X-Filler", "a".repeat(7000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let openemr = mock(ProfileId::OpenEmr, |_| {}).await;
    let url = format!("{}/apis/default/api/patient", openemr.base_url());
    let r = client()
        .get(&url)
        .header("X-Filler", "a".repeat(8200))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Size of a request header field exceeds server limit."));
    let mut many = client().get(&url);
    for i in 0..120 {
        many = many.header(format!("X-F{i}"), "1");
    }
    let r = many.send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("number of request header fields"));

    // Past what the connection buffers at all: 431 and the connection
    // closes, the server goes on.
    let huge = format!(
        "GET /oscar/ws/rs/status/checkIfAuthed HTTP/1.1\r\nHost: x\r\nX-Huge: {}\r\n\r\n",
        "b".repeat(200 * 1024)
    );
    let answer = raw(&oscar, huge.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.80}");
    still_serves(&oscar).await;
}

#[tokio::test]
async fn oversized_bodies_get_the_dialects_413() {
    let openemr = mock(ProfileId::OpenEmr, |c| c.max_body_bytes = 4096).await;
    let before = fingerprint(&openemr);
    // The token endpoint answers every unreadable request as an OAuth
    // error (PHP drops an oversized POST body, league finds no grant).
    let r = client()
        .post(format!("{}/oauth2/default/token", openemr.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&username={}",
            "a".repeat(10_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_request", "{v}");
    assert!(
        v["hint"].as_str().unwrap().contains("larger than 4096"),
        "{v}"
    );
    let r = client()
        .post(format!(
            "{}/oauth2/default/registration",
            openemr.base_url()
        ))
        .header("Content-Type", "application/json")
        .body(vec![b' '; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client_metadata", "{v}");
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("larger than 4096"));
    // The mock's own admin API answers 413.
    let r = client()
        .post(format!("{}/__admin/reset", openemr.base_url()))
        .body(vec![b' '; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(fingerprint(&openemr), before);
}

#[tokio::test]
async fn deep_json_nesting_is_a_400_not_a_stack_overflow() {
    let openemr = mock(ProfileId::OpenEmr, |_| {}).await;
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let r = client()
        .post(format!(
            "{}/oauth2/default/registration",
            openemr.base_url()
        ))
        .header("Content-Type", "application/json")
        .body(deep.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client_metadata");
    // The admin API too.
    let r = client()
        .post(format!("{}/__admin/reset", openemr.base_url()))
        .body(format!("{{\"seed\":{}", "{\"a\":".repeat(100_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client()
        .get(format!("{}/__admin/health", openemr.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn invalid_utf8_gets_the_dialects_refusal() {
    let oscar = mock(ProfileId::Oscar, |_| {}).await;
    // Header bytes outside ASCII (obs-text) in an OAuth header.
    let value = reqwest::header::HeaderValue::from_bytes(
        b"OAuth oauth_token=\"\xff\xfe\", oauth_signature=\"\xc3\x28\"",
    )
    .unwrap();
    let r = client()
        .get(format!(
            "{}/oscar/ws/services/status/checkIfAuthed",
            oscar.base_url()
        ))
        .header("Authorization", value)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "OAuth");
    // A login form that is not UTF-8.
    let r = client()
        .post(format!("{}/oscar/login.do", oscar.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(b"username=\xff\xfe&password=\xc3\x28&pin=1".to_vec())
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.contains("login=failed"), "{location}");
    still_serves(&oscar).await;

    let openemr = mock(ProfileId::OpenEmr, |_| {}).await;
    let r = client()
        .post(format!("{}/oauth2/default/token", openemr.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(b"grant_type=\xff\xfe&client_id=\xc3\x28".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16() / 100, 4);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"].is_string(), "{v}");
    let r = client()
        .post(format!(
            "{}/oauth2/default/registration",
            openemr.base_url()
        ))
        .header("Content-Type", "application/json")
        .body(b"{\"client_name\":\"\xff\"}".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn truncated_envelopes_are_faults_at_every_length() {
    let server = mock(ProfileId::Juno, |_| {}).await;
    let full = envelope(
        "",
        "<t:isAlive xmlns:t=\"http://v1.soap.external.ws.oscarehr.org/\"/>",
    );
    for cut in (0..full.len()).step_by(5) {
        let (status, body) = soap(&server, "SystemInfoService", full[..cut].to_owned()).await;
        assert_eq!(status, 500, "cut at {cut}: {body}");
        assert!(
            body.contains("<faultcode>soap:Client</faultcode>"),
            "cut at {cut}: {body}"
        );
    }
    let (status, _) = soap(&server, "SystemInfoService", full).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn dtd_tricks_are_refused_before_anything_expands() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    let big = "x".repeat(100_000);
    let refs = "&big;".repeat(10_000);
    let tricks = [
        // External entity (XXE).
        format!("<!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}", envelope("", "&x;")),
        // Parameter entities fetching a remote DTD.
        format!("<!DOCTYPE e [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/evil.dtd\"> %p;]>{}", envelope("", "")),
        // Quadratic blowup: one large entity referenced many times.
        format!("<!DOCTYPE e [<!ENTITY big \"{big}\">]>{}", envelope("", &refs)),
        // Billion laughs.
        format!(
            "<!DOCTYPE l [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>{}",
            envelope("", "&d;")
        ),
    ];
    for t in tricks {
        let started = Instant::now();
        let (status, body) = soap(&server, "SystemInfoService", t).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(status, 500);
        assert!(body.contains("DTD"), "{body:.300}");
        assert!(!body.contains("root:") && !body.contains("lollol"));
    }
    still_serves(&server).await;
}

#[tokio::test]
async fn wrong_content_types_are_refused_in_each_dialect() {
    let oscar = mock(ProfileId::Oscar, |_| {}).await;
    let (status, body) = soap(&oscar, "SystemInfoService", "{\"isAlive\": true}").await;
    assert_eq!(status, 500);
    assert!(
        body.contains("<faultcode>soap:Client</faultcode>"),
        "{body}"
    );
    let openemr = mock(ProfileId::OpenEmr, |_| {}).await;
    let r = client()
        .post(format!(
            "{}/oauth2/default/registration",
            openemr.base_url()
        ))
        .header("Content-Type", "text/plain")
        .body("{\"redirect_uris\":[\"https://x.example/cb\"]}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error_description"], "Unexpected content type");
    let r = client()
        .post(format!("{}/oauth2/default/token", openemr.base_url()))
        .header("Content-Type", "application/json")
        .body("{\"grant_type\":\"password\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"].is_string(), "{v}");
}

#[tokio::test]
async fn document_names_with_paths_stay_names() {
    let server = mock(ProfileId::OpenO, |_| {}).await;
    let header = format!(
        "<wsse:Security xmlns:wsse=\"{WSSE}\"><wsse:UsernameToken><wsse:Username>128</wsse:Username><wsse:Password>mac2002#</wsse:Password></wsse:UsernameToken></wsse:Security>"
    );
    let docs = |s: &MockServer| {
        s.state().default_site().store.read(|d| {
            d.documents
                .iter()
                .map(|x| format!("{x:?}"))
                .collect::<Vec<_>>()
        })
    };
    let before = docs(&server);
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 fuzz");
    let names = [
        "../../../../../../tmp/zz-emr-mock-traversal",
        "..\\..\\windows\\win.ini",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/etc/passwd",
        "report.pdf\u{0}.exe",
    ];
    for (i, name) in names.iter().enumerate() {
        let body = envelope(
            &header,
            &format!(
                "<t:uploadPDF xmlns:t=\"{TNS}\"><file_name>{}</file_name><contents>{pdf}</contents><oscar_provider_no>999998</oscar_provider_no></t:uploadPDF>",
                name.replace('&', "&amp;").replace('\u{0}', "")
            ),
        );
        let (status, text) = soap(&server, "LabUploadService", body).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("success"), "{text}");
        let now = docs(&server);
        assert_eq!(now.len(), before.len() + i + 1);
        assert_eq!(now[..before.len()], before[..], "stored documents changed");
    }
    // Names are data: nothing reached the file system.
    assert!(!std::path::Path::new("/tmp/zz-emr-mock-traversal").exists());
    let stored: Vec<String> = server.state().default_site().store.read(|d| {
        d.documents
            .iter()
            .map(|x| x.file_name.to_string())
            .collect()
    });
    assert!(stored.iter().any(|n| n == names[0]));
}

#[tokio::test]
async fn a_slowloris_is_cut_off_by_the_header_deadline() {
    let server = mock(ProfileId::Oscar, |c| {
        c.header_read_timeout = Duration::from_millis(300)
    })
    .await;
    let mut slow = TcpStream::connect(server.addr()).await.unwrap();
    slow.write_all(b"GET /oscar/ws/rs/status/checkIfAuthed HTTP/1.1\r\nHost: x\r\nX-A: ")
        .await
        .unwrap();
    let started = Instant::now();
    // Others are served meanwhile.
    still_serves(&server).await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            // A byte now and then does not keep the connection alive.
            if slow.write_all(b"a").await.is_err() {
                break;
            }
            let mut buf = [0u8; 256];
            match tokio::time::timeout(Duration::from_millis(100), slow.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the slow client was never cut off");
    assert!(started.elapsed() < Duration::from_secs(3));
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    still_serves(&server).await;
}

#[tokio::test]
async fn a_trickled_body_gets_the_dialects_timeout() {
    let server = mock(ProfileId::Oscar, |c| {
        c.body_read_timeout = Duration::from_millis(300)
    })
    .await;
    let before = fingerprint(&server);
    let head = "POST /oscar/ws/SystemInfoService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<s:Envelope";
    let started = Instant::now();
    let answer = raw(&server, head.as_bytes(), Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    assert!(
        answer.contains("<faultcode>soap:Client</faultcode>"),
        "{answer}"
    );
    assert!(answer.contains("did not arrive"), "{answer}");

    let openemr = mock(ProfileId::OpenEmr, |c| {
        c.body_read_timeout = Duration::from_millis(300)
    })
    .await;
    let head = "POST /oauth2/default/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=";
    let answer = raw(&openemr, head.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(fingerprint(&server), before);
    still_serves(&server).await;
}

#[tokio::test]
async fn abruptly_closed_connections_leave_the_server_serving() {
    let server = mock(ProfileId::OpenO, |_| {}).await;
    let before = fingerprint(&server);
    let book = "POST /oscar/ws/ScheduleService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><t:addAppointment";
    let partials: [&[u8]; 5] = [
        b"",
        b"GET /osc",
        b"GET /oscar/ws/rs/status/checkIfAuthed HTTP/1.1\r\nHost: x\r\n",
        b"POST /oscar/login.do HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nusername=oscardoc",
        book.as_bytes(),
    ];
    for p in partials {
        for _ in 0..20 {
            let mut s = TcpStream::connect(server.addr()).await.unwrap();
            let _ = s.write_all(p).await;
            drop(s);
        }
    }
    still_serves(&server).await;
    assert_eq!(
        fingerprint(&server),
        before,
        "a half-sent write changed the store"
    );
}

/// How many connections this process may open at once: each test
/// connection is two descriptors here (client and server side).
fn connection_budget(wanted: usize) -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_owned))
        })
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(4096);
    wanted.min(soft.saturating_sub(200) / 2).max(64)
}

#[tokio::test]
async fn a_thousand_concurrent_connections_all_get_answers() {
    let server = mock(ProfileId::Oscar, |_| {}).await;
    let before = fingerprint(&server);
    let addr = server.addr();
    let alive = is_alive();
    let requests: Vec<Vec<u8>> = vec![
        format!(
            "POST /oscar/ws/SystemInfoService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{alive}",
            alive.len()
        )
        .into_bytes(),
        b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        b"GET /oscar/ws/rs/status/checkIfAuthed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        {
            let dtd = "<!DOCTYPE x [<!ENTITY a SYSTEM \"file:///etc/passwd\">]><x>&a;</x>";
            format!(
                "POST /oscar/ws/SystemInfoService HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{dtd}",
                dtd.len()
            )
            .into_bytes()
        },
    ];
    // 1,000 where the descriptor limit allows it (it does on CI runners).
    let n = connection_budget(1000);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let req = requests[i % requests.len()].clone();
        tasks.spawn(async move {
            let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            s.write_all(&req).await.map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            s.read_to_end(&mut out).await.map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&out).into_owned();
            let status: u16 = text
                .get(9..12)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("no status line: {text:.80}"))?;
            Ok::<(usize, u16), String>((i % 4, status))
        });
    }
    let mut answered = 0;
    while let Some(joined) = tasks.join_next().await {
        let (kind, status) = joined.unwrap().unwrap();
        let expected = [200, 200, 401, 500][kind];
        assert_eq!(status, expected, "request kind {kind}");
        answered += 1;
    }
    assert_eq!(answered, n);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    still_serves(&server).await;
    assert_eq!(fingerprint(&server), before);
}

#[tokio::test]
async fn idle_connections_are_closed_too() {
    let server = mock(ProfileId::Oscar, |c| {
        c.header_read_timeout = Duration::from_millis(300)
    })
    .await;
    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(server.addr()).await.unwrap();
    // A keep-alive connection that goes quiet after one request.
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    idle.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    for s in [&mut silent, &mut idle] {
        let mut buf = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        assert!(closed.is_ok(), "an idle connection stayed open");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// A request with `method` on `path`, as `client` sends it: the status
/// and the body, with `number` (the id it names) written as `N`.
async fn answer(
    client: &reqwest::Client,
    server: &MockServer,
    method: reqwest::Method,
    path: &str,
    number: &str,
    bearer: Option<&str>,
) -> (u16, String) {
    let mut r = client
        .request(method, format!("{}{path}", server.base_url()))
        .header("Accept", "application/json");
    if let Some(token) = bearer {
        r = r.bearer_auth(token);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap().replace(number, "N"))
}

/// Row ids are 32-bit. A number past that range names no row: it gets
/// the answer an unknown id gets (one past 64 bits keeps the answer of
/// text that is no number, which it always had), and it never reaches
/// the row its low bits name: 4294967297 is 2^32 + 1, patient and
/// appointment 1 if it were truncated, and a delete through it must
/// leave the store as it was.
#[tokio::test]
async fn ids_past_32_bits_are_unknown_ids() {
    use reqwest::Method;
    const UNKNOWN: &str = "999999";
    const PAST: [&str; 2] = ["3000000000", "4294967297"];
    const PAST_64_BITS: &str = "99999999999999999999";

    // OSCAR REST: a read, and a delete that answers the id it was given.
    let oscar = mock(ProfileId::Oscar, |_| {}).await;
    let session = support::oscar::session(&oscar).await;
    let rest = |method: Method, n: &'static str| {
        let (session, oscar) = (&session, &oscar);
        async move {
            let path = format!("/oscar/ws/rs/demographics/{n}");
            answer(session, oscar, method, &path, n, None).await
        }
    };
    let has_one = |server: &MockServer| {
        server
            .state()
            .default_site()
            .store
            .read(|d| d.patients().get(1).is_some() && d.appointments().get(1).is_some())
    };
    assert!(has_one(&oscar), "what a truncated id would reach");
    let before = fingerprint(&oscar);
    assert_eq!(rest(Method::GET, "1").await.0, 200);
    let unknown = rest(Method::GET, UNKNOWN).await;
    assert_ne!(unknown.0, 200, "{unknown:?}");
    let unknown_delete = rest(Method::DELETE, UNKNOWN).await;
    for n in PAST {
        assert_eq!(rest(Method::GET, n).await, unknown, "GET {n}");
        assert_eq!(rest(Method::DELETE, n).await, unknown_delete, "DELETE {n}");
    }
    assert_eq!(
        rest(Method::GET, PAST_64_BITS).await,
        rest(Method::GET, "abc").await
    );

    // OSCAR SOAP: reads by id, and a cancellation.
    let call = |service: &'static str, op: &'static str, n: &'static str| {
        let oscar = &oscar;
        async move {
            let envelope = support::soap::call(oscar, op, &format!("<arg0>{n}</arg0>"));
            let (status, body) = support::soap::send(oscar, service, envelope).await;
            (status, body.replace(n, "N"))
        }
    };
    let found = call("DemographicService", "getDemographic", "1").await;
    assert!(found.1.contains("<lastName>"), "{found:?}");
    for (service, op) in [
        ("DemographicService", "getDemographic"),
        ("ScheduleService", "getAppointment"),
        ("ScheduleService", "cancelAppointment"),
    ] {
        let unknown = call(service, op, UNKNOWN).await;
        for n in PAST {
            assert_eq!(call(service, op, n).await, unknown, "{op} {n}");
        }
        assert_eq!(
            call(service, op, PAST_64_BITS).await,
            call(service, op, "abc").await,
            "{op}"
        );
    }
    assert_eq!(fingerprint(&oscar), before, "nothing changed");

    // OpenEMR Standard API: a read, and a delete.
    let openemr = mock(ProfileId::OpenEmr, |_| {}).await;
    let token = support::openemr::user_token(
        &openemr,
        "openid api:oemr user/appointment.read user/appointment.write",
    )
    .await;
    let http = client();
    let api = |method: Method, path: &'static str, n: &'static str| {
        let (http, openemr, token) = (&http, &openemr, token.as_str());
        async move {
            let path = format!("/apis/default/api{}", path.replace("{n}", n));
            answer(http, openemr, method, &path, n, Some(token)).await
        }
    };
    assert!(has_one(&openemr));
    let before = fingerprint(&openemr);
    assert_eq!(api(Method::GET, "/appointment/{n}", "1").await.0, 200);
    for (method, path) in [
        (Method::GET, "/appointment/{n}"),
        (Method::GET, "/patient/{n}/appointment"),
        (Method::DELETE, "/patient/1/appointment/{n}"),
    ] {
        let unknown = api(method.clone(), path, UNKNOWN).await;
        for n in PAST.into_iter().chain([PAST_64_BITS]) {
            assert_eq!(
                api(method.clone(), path, n).await,
                unknown,
                "{method} {path} {n}"
            );
        }
    }
    assert_eq!(fingerprint(&openemr), before, "nothing changed");
}
