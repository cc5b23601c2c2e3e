//! The OpenEMR authorization server checked by independent code: tokens
//! verified with `jsonwebtoken` (another JOSE implementation than the
//! mock's signer) against the mock's published JWKS, and the authorization
//! code flow with PKCE completed by the `oauth2` client library.

use std::collections::HashMap;

use emr_catalog::ProfileId;
use emr_mock::{MockConfig, MockServer};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};
use regex::Regex;
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn credentials(base: &str, site: &str) -> Value {
    let all: Value = client()
        .get(format!("{base}/__admin/credentials"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    all["sites"][site].clone()
}

/// A password-grant token response for the site's confidential client.
async fn password_tokens(base: &str, site: &str) -> (Value, String) {
    let http = client();
    http.post(format!("{base}/__admin/openemr/settings"))
        .json(&serde_json::json!({"password_grant": true}))
        .send()
        .await
        .unwrap();
    let c = credentials(base, site).await;
    let id = c["oauth2"]["confidential"]["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = c["oauth2"]["confidential"]["client_secret"]
        .as_str()
        .unwrap();
    let r: Value = http
        .post(format!("{base}/oauth2/{site}/token"))
        .basic_auth(&id, Some(secret))
        .form(&[
            ("grant_type", "password"),
            ("user_role", "users"),
            ("username", "admin"),
            ("password", "pass"),
            ("scope", "openid fhirUser api:oemr user/patient.read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (r, id)
}

#[tokio::test]
async fn tokens_verify_with_jsonwebtoken_against_the_published_jwks() {
    let server = MockServer::start_local(MockConfig::new(ProfileId::OpenEmr))
        .await
        .unwrap();
    let base = server.base_url();
    let (tokens, client_id) = password_tokens(&base, "default").await;
    let jwks: JwkSet = client()
        .get(format!("{base}/oauth2/default/jwk"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();

    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(decode_header(access).unwrap().alg, Algorithm::RS256);
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[&client_id]);
    v.set_required_spec_claims(&["exp", "aud", "sub"]);
    let claims = decode::<Value>(access, &key, &v).unwrap().claims;
    assert_eq!(claims["aud"], client_id.as_str());
    assert!(claims["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "site:default"));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );

    let id_token = tokens["id_token"].as_str().unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[&client_id]);
    v.set_issuer(&[format!("{base}/oauth2/default")]);
    let claims = decode::<Value>(id_token, &key, &v).unwrap().claims;
    assert!(claims["fhirUser"]
        .as_str()
        .unwrap()
        .contains("/fhir/Practitioner/"));

    // A flipped signature bit, and a token of the other site, do not verify.
    let mut parts: Vec<String> = access.split('.').map(str::to_owned).collect();
    let last = parts[2].pop().unwrap();
    parts[2].push(if last == 'A' { 'B' } else { 'A' });
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[&client_id]);
    assert!(decode::<Value>(&parts.join("."), &key, &v).is_err());
    let (other, other_client) = password_tokens(&base, "alternate").await;
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[&other_client]);
    assert!(decode::<Value>(other["access_token"].as_str().unwrap(), &key, &v).is_err());
}

fn attr(html: &str, re: &str) -> String {
    Regex::new(re).unwrap().captures(html).unwrap()[1].to_owned()
}

#[tokio::test]
async fn the_oauth2_crate_completes_authorization_code_with_pkce() {
    let server = MockServer::start_local(MockConfig::new(ProfileId::OpenEmr))
        .await
        .unwrap();
    let base = server.base_url();
    let c = credentials(&base, "default").await;
    let conf = &c["oauth2"]["confidential"];
    let oauth = BasicClient::new(ClientId::new(conf["client_id"].as_str().unwrap().into()))
        .set_client_secret(ClientSecret::new(
            conf["client_secret"].as_str().unwrap().into(),
        ))
        .set_auth_uri(AuthUrl::new(format!("{base}/oauth2/default/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{base}/oauth2/default/token")).unwrap())
        .set_redirect_uri(
            RedirectUrl::new(conf["redirect_uris"][0].as_str().unwrap().into()).unwrap(),
        );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_scope(Scope::new("api:oemr".into()))
        .add_scope(Scope::new("user/patient.read".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser: login page, consent page, redirect back with the code.
    let browser = client();
    let r = browser.get(url).send().await.unwrap();
    let login = r.headers()["location"].to_str().unwrap().to_owned();
    let page = browser
        .get(&login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = attr(&page, r#"name="csrf_token_form" value="([^"]+)""#);
    let r = browser
        .post(&login)
        .form(&[
            ("csrf_token_form", token.as_str()),
            ("username", "admin"),
            ("password", "pass"),
            ("user_role", "api"),
        ])
        .send()
        .await
        .unwrap();
    let consent = r.headers()["location"].to_str().unwrap().to_owned();
    let page = browser
        .get(&consent)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = attr(&page, r#"<form method="post" action="([^"]+)""#);
    let mut form: Vec<(String, String)> = Regex::new(r#"name="(scope\[[^\]]+\])" value="([^"]+)""#)
        .unwrap()
        .captures_iter(&page)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    form.push(("csrf_token_form".into(), token));
    form.push(("proceed".into(), "1".into()));
    let r = browser.post(&action).form(&form).send().await.unwrap();
    let back = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q: HashMap<String, String> = back.query_pairs().into_owned().collect();
    assert_eq!(q["state"], *csrf.secret(), "state is echoed");

    let http = client();
    let tokens = oauth
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    assert!(
        tokens.refresh_token().is_some(),
        "offline_access was granted"
    );
    let patient = c["patients"][0]["uuid"].as_str().unwrap();
    let r = http
        .get(format!("{base}/apis/default/api/patient/{patient}"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The library refreshes with the rotated refresh token.
    let refreshed = oauth
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(
        refreshed.access_token().secret(),
        tokens.access_token().secret()
    );
}
