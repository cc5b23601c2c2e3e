//! `emr-conformance auth` end to end against the mock served as a live
//! server: the interactive flow prints an authorization URL, a "browser"
//! (this test) logs in and approves, the redirect reaches the loopback
//! receiver, and the tokens obtained then authorize a live run without any
//! flow (pre-provisioned tokens, `credentials.tokens.<driver>`).

use std::time::Duration;

use emr_catalog::ProfileId;
use emr_conformance::provision::EmbeddedMock;
use emr_harness::live::interactive::{self, flow_for, flows};
use emr_harness::live::loopback::CallbackReceiver;
use emr_harness::outcome::Status;
use emr_harness::runner::{self, RunOptions};
use emr_harness::scenario::parse;
use emr_harness::snapshot::{SnapshotMode, Snapshots};
use emr_harness::target::{Target, TargetKind};
use emr_harness::transport::Transport;
use regex::Regex;
use serde_json::{json, Value};

/// A browser: a cookie jar, redirects followed only where asked.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn capture(re: &str, text: &str) -> String {
    Regex::new(re)
        .unwrap()
        .captures(text)
        .unwrap_or_else(|| panic!("/{re}/ not in {text}"))[1]
        .replace("&amp;", "&")
}

fn absolute(root: &str, url: &str) -> String {
    if url.starts_with("http") {
        url.to_owned()
    } else {
        format!("{root}{url}")
    }
}

/// Runs the interactive flow with `approve` playing the user.
async fn interactive_tokens<F, Fut>(
    target: &Target,
    receiver: CallbackReceiver,
    approve: F,
) -> Value
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let flow = flow_for(flows(), target.profile, None).unwrap();
    let transport = Transport::new(Duration::from_secs(10), false).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    let user = tokio::spawn(async move {
        approve(rx.await.unwrap()).await;
    });
    let tokens = interactive::authorize(
        flow.as_ref(),
        target,
        &transport,
        receiver,
        Duration::from_secs(30),
        |url| {
            let _ = tx.send(url.to_owned());
        },
    )
    .await
    .unwrap();
    user.await.unwrap();
    tokens
}

/// A live run of one scenario against `target`.
async fn run_live(target: &Target, yaml: &str) -> emr_harness::outcome::ScenarioOutcome {
    let dir = tempfile::tempdir().unwrap();
    let scenario = parse(std::path::Path::new("t.yaml"), "t".into(), yaml)
        .unwrap()
        .remove(0);
    let opts = RunOptions {
        snapshots: Snapshots {
            dir: dir.path().to_owned(),
            mode: SnapshotMode::CompareOnly,
            redact_personal: true,
        },
        insecure: false,
        run_id: "t".into(),
        policy: Default::default(),
        fuzz: Default::default(),
    };
    runner::run(&scenario, target, &opts).await
}

#[tokio::test]
async fn oscar_oauth1_authorize_then_reuse_the_tokens() {
    let (server, _) = EmbeddedMock::default()
        .start(ProfileId::Oscar)
        .await
        .unwrap();
    let root = server.base_url();
    let receiver = CallbackReceiver::bind(0).await.unwrap();
    let redirect = receiver.redirect_uri();
    // Classic OSCAR accepts only callbacks under the client's URI: register
    // the application with the loopback address, as the README says.
    let base = redirect.trim_end_matches("/callback").to_owned();
    let client: Value = reqwest::Client::new()
        .post(format!("{root}/__admin/oauth1/clients"))
        .json(&json!({"name": "auth command", "uri": base, "lifetime": -1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let credentials = json!({"oauth1": {"clients": [{
        "key": client["key"], "secret": client["secret"], "uri": base,
    }]}});
    let target = Target::new(TargetKind::Live, ProfileId::Oscar, &root, credentials);

    let page_root = root.clone();
    let tokens = interactive_tokens(&target, receiver, move |url| async move {
        let b = browser();
        let page = b.get(&url).send().await.unwrap().text().await.unwrap();
        let token = capture(
            r#"name="oauth_token" id="oauth_token" value="([^"]+)""#,
            &page,
        );
        let sat = capture(
            r#"name="session_authenticity_token" value="([^"]*)""#,
            &page,
        );
        let action = capture(r#"id="scopeForm" method="post" action="([^"]+)""#, &page);
        let login = b
            .post(format!("{page_root}/oscar/login.do"))
            .form(&[
                ("username", "oscardoc"),
                ("password", "mac2002#"),
                ("pin", "1117"),
                ("ajaxResponse", "true"),
                ("invalidate_session", "false"),
                ("oauth_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(login.contains("\"success\":true"), "{login}");
        let decision = b
            .post(absolute(&page_root, &action))
            .form(&[
                ("session_authenticity_token", sat.as_str()),
                ("oauth_token", token.as_str()),
                ("oauthDecision", "allow"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(decision.status(), 303);
        let back = decision.headers()["location"].to_str().unwrap().to_owned();
        assert!(back.starts_with(&redirect), "{back}");
        assert_eq!(reqwest::get(back).await.unwrap().status(), 200);
    })
    .await;
    assert!(tokens["token"].as_str().is_some_and(|t| !t.is_empty()));

    // The stored tokens authorize a live run: no flow, only the call.
    let live = Target::new(
        TargetKind::Live,
        ProfileId::Oscar,
        &root,
        json!({"tokens": {"oauth1": tokens}}),
    );
    let o = run_live(
        &live,
        "name: x\nprofile: oscar\nauth: oauth1\nsteps:\n  - request: {path: /ws/services/oauth/info}\n    expect: {status: 200, json: {$.login: '999998'}}\n",
    )
    .await;
    assert_eq!(o.status, Status::Passed, "{:#?}", o.all_failures());
    let paths = journal_paths(&root).await;
    assert_eq!(
        paths.last().map(String::as_str),
        Some("/oscar/ws/services/oauth/info")
    );
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.ends_with("/ws/oauth/initiate"))
            .count(),
        1,
        "only the interactive flow initiated: {paths:?}"
    );
}

#[tokio::test]
async fn openemr_code_with_pkce_then_reuse_the_tokens() {
    let (server, _) = EmbeddedMock::default()
        .start(ProfileId::OpenEmr)
        .await
        .unwrap();
    let root = server.base_url();
    let receiver = CallbackReceiver::bind(0).await.unwrap();
    let redirect = receiver.redirect_uri();
    let http = reqwest::Client::new();
    let reg: Value = http
        .post(format!("{root}/oauth2/default/registration"))
        .json(&json!({
            "application_type": "private",
            "client_name": "auth command",
            "redirect_uris": [redirect],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": "openid offline_access api:oemr user/patient.read",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = reg["client_id"].as_str().unwrap().to_owned();
    // An administrator approves confidential clients with user scopes.
    let approved = http
        .post(format!("{root}/__admin/openemr/clients/{id}"))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 200);
    let credentials = json!({"sites": {"default": {"oauth2": {"clients": [{
        "client_id": id,
        "client_secret": reg["client_secret"],
        "redirect_uris": [redirect],
        "scope": "openid offline_access api:oemr user/patient.read",
    }]}}}});
    let target = Target::new(TargetKind::Live, ProfileId::OpenEmr, &root, credentials);

    let page_root = root.clone();
    let tokens = interactive_tokens(&target, receiver, move |url| async move {
        let b = browser();
        let r = b.get(&url).send().await.unwrap();
        let login_url = absolute(&page_root, r.headers()["location"].to_str().unwrap());
        let page = b
            .get(&login_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = capture(r#"name="csrf_token_form"[^>]*value="([^"]*)""#, &page);
        let r = b
            .post(&login_url)
            .form(&[
                ("csrf_token_form", csrf.as_str()),
                ("username", "admin"),
                ("password", "pass"),
                ("user_role", "api"),
            ])
            .send()
            .await
            .unwrap();
        let consent_url = absolute(&page_root, r.headers()["location"].to_str().unwrap());
        let page = b
            .get(&consent_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let action = absolute(
            &page_root,
            &capture(r#"(?s)<form[^>]*action="([^"]+)""#, &page),
        );
        let mut form: Vec<(String, String)> =
            Regex::new(r#"<input[^>]*name="([^"]+)"[^>]*value="([^"]*)""#)
                .unwrap()
                .captures_iter(&page)
                .map(|c| (c[1].to_owned(), c[2].replace("&amp;", "&")))
                .filter(|(n, _)| n.starts_with("scope[") || n == "csrf_token_form")
                .collect();
        form.push(("proceed".into(), "1".into()));
        let r = b.post(&action).form(&form).send().await.unwrap();
        let back = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            back.starts_with(&redirect) && back.contains("code="),
            "{back}"
        );
        assert_eq!(reqwest::get(back).await.unwrap().status(), 200);
    })
    .await;
    assert!(tokens["access_token"]
        .as_str()
        .is_some_and(|t| t.starts_with("eyJ")));
    assert!(
        tokens["refresh_token"].is_string(),
        "offline_access gives a refresh token"
    );

    let live = Target::new(
        TargetKind::Live,
        ProfileId::OpenEmr,
        &root,
        json!({"tokens": {"oauth2": tokens}}),
    );
    // The seeded patient's uuid, from the mock's own credentials.
    let admin: Value = reqwest::get(format!("{root}/__admin/credentials"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let puuid = admin["sites"]["default"]["patients"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = run_live(
        &live,
        &format!("name: x\nprofile: openemr\nauth: {{oauth2: {{grant: authorization_code, scope: 'openid api:oemr user/patient.read'}}}}\nsteps:\n  - request: {{path: /apis/default/api/patient/{puuid}}}\n    expect: {{status: 200, json: {{$.data.uuid: {puuid}}}}}\n"),
    )
    .await;
    assert_eq!(o.status, Status::Passed, "{:#?}", o.all_failures());
    let token_calls = journal_paths(&root)
        .await
        .iter()
        .filter(|p| p.ends_with("/token"))
        .count();
    assert_eq!(
        token_calls, 1,
        "only the interactive flow asked for a token"
    );
}

#[tokio::test]
async fn a_provided_session_cookie_is_used_without_logging_in() {
    let (server, _) = EmbeddedMock::default()
        .start(ProfileId::Juno)
        .await
        .unwrap();
    let root = server.base_url();
    let login = browser()
        .post(format!("{root}/oscar/login.do"))
        .form(&[
            ("username", "oscardoc"),
            ("password", "mac2002#"),
            ("pin", "1117"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 302);
    let cookie = capture(
        "JSESSIONID=([^;]+)",
        login.headers()["set-cookie"].to_str().unwrap(),
    );
    let live = Target::new(
        TargetKind::Live,
        ProfileId::Juno,
        &root,
        json!({"tokens": {"session": {"name": "JSESSIONID", "value": cookie}}}),
    );
    let o = run_live(
        &live,
        "name: x\nprofile: juno\nauth: session\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n    expect: {status: 200}\n",
    )
    .await;
    assert_eq!(o.status, Status::Passed, "{:#?}", o.all_failures());
    let logins = journal_paths(&root)
        .await
        .iter()
        .filter(|p| *p == "/oscar/login.do")
        .count();
    assert_eq!(logins, 1, "the run did not log in again");
}

/// The paths of every request the mock at `root` has journaled, in order.
async fn journal_paths(root: &str) -> Vec<String> {
    let journal: Value = reqwest::get(format!("{root}/__admin/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["path"].as_str().map(str::to_owned))
        .collect()
}
