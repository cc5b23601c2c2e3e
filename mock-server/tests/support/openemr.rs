//! Bearer tokens and Standard API / FHIR calls against an OpenEMR-family
//! mock, for the integration tests.

use emr_mock::MockServer;
use serde_json::Value;

/// An access token for the seeded `admin` user on the `default` site,
/// through the password grant (switched on for the test, as an
/// administrator would) with the seeded confidential client.
pub async fn user_token(server: &MockServer, scope: &str) -> String {
    let http = reqwest::Client::new();
    let base = server.base_url();
    let r = http
        .post(format!("{base}/__admin/openemr/settings"))
        .json(&serde_json::json!({"password_grant": true}))
        .send()
        .await
        .expect("the admin API answers");
    assert!(
        r.status().is_success(),
        "{}",
        r.text().await.unwrap_or_default()
    );
    let creds: Value = http
        .get(format!("{base}/__admin/credentials"))
        .send()
        .await
        .expect("the admin API answers")
        .json()
        .await
        .expect("credentials are JSON");
    let client = &creds["sites"]["default"]["oauth2"]["confidential"];
    let id = client["client_id"]
        .as_str()
        .expect("a seeded confidential client");
    let secret = client["client_secret"].as_str().expect("with a secret");
    let token: Value = http
        .post(format!("{base}/oauth2/default/token"))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "password"),
            ("user_role", "users"),
            ("username", "admin"),
            ("password", "pass"),
            ("scope", scope),
        ])
        .send()
        .await
        .expect("the token endpoint answers")
        .json()
        .await
        .expect("a token response is JSON");
    token["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {token}"))
        .to_owned()
}

/// `GET` on the `default` site's API root (`/apis/default` + `path`) with
/// a bearer token: the status and the JSON body.
pub async fn get(server: &MockServer, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}/apis/default{path}", server.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("the mock answers");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
