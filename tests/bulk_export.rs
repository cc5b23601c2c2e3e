//! The bulk export round trip, end to end against the mock: a backend
//! service signs its own RS384 client assertion (ring, not the mock's or
//! the harness's signer), takes a client-credentials token, kicks off a
//! system export, reads the manifest and downloads every file. Each file
//! must be NDJSON whose every line parses as a FHIR resource of the
//! manifest's type, passes the R4 structure rules, and whose references
//! to patients resolve within the Patient file: one consistent snapshot.

use std::collections::BTreeSet;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use emr_catalog::ProfileId;
use emr_mock::{MockConfig, MockServer};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA384};
use serde_json::{json, Value};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A `private_key_jwt` client assertion, signed here; `now` is the mock's
/// clock (the tests move it).
fn assertion(client_id: &str, kid: &str, pem: &str, aud: &str, now: i64) -> String {
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(der).unwrap();
    let key = RsaKeyPair::from_pkcs8(&der).unwrap();
    let header = json!({"alg": "RS384", "typ": "JWT", "kid": kid});
    let claims = json!({"iss": client_id, "sub": client_id, "aud": aud,
        "iat": now, "exp": now + 120, "jti": format!("bulk-test-{now}")});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA384,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The mock's clock, in epoch seconds.
async fn mock_now(c: &reqwest::Client, base: &str) -> i64 {
    let v: Value = c
        .get(format!("{base}/__admin/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    chrono::DateTime::parse_from_rfc3339(v["now"].as_str().unwrap())
        .unwrap()
        .timestamp()
}

/// A client-credentials token for the seeded backend service.
async fn system_token(c: &reqwest::Client, base: &str, creds: &Value, scope: &str) -> String {
    let jwks = &creds["sites"]["default"]["oauth2"]["jwks"];
    let client_id = jwks["client_id"].as_str().unwrap();
    let token_url = format!("{base}/oauth2/default/token");
    let jwt = assertion(
        client_id,
        jwks["kid"].as_str().unwrap(),
        jwks["private_key_pem"].as_str().unwrap(),
        &token_url,
        mock_now(c, base).await,
    );
    let token: Value = c
        .post(&token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", jwt.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    format!("Bearer {}", token["access_token"].as_str().unwrap())
}

const SCOPE: &str = "system/*.$export system/*.$bulkdata-status system/Patient.read \
                     system/Encounter.read system/Observation.read system/Binary.read";

#[tokio::test]
async fn a_system_export_round_trips_as_ndjson_fhir_resources() {
    let server = MockServer::start_local(MockConfig::new(ProfileId::OpenEmr))
        .await
        .unwrap();
    let base = server.base_url();
    let c = http();
    let creds: Value = c
        .get(format!("{base}/__admin/credentials"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = system_token(&c, &base, &creds, SCOPE).await;

    let kickoff = c
        .get(format!(
            "{base}/apis/default/fhir/$export?_type=Patient,Encounter,Observation"
        ))
        .header("Authorization", &bearer)
        .header("Accept", "application/fhir+json")
        .header("Prefer", "respond-async")
        .send()
        .await
        .unwrap();
    assert_eq!(kickoff.status(), 202);
    let status_url = kickoff.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(status_url.contains("/apis/default/fhir/$bulkdata-status?job="));

    let manifest: Value = c
        .get(&status_url)
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["requiresAccessToken"], true);
    let outputs = manifest["output"].as_array().unwrap();
    let types: Vec<&str> = outputs
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Patient", "Encounter", "Observation"]);

    let mut patients = BTreeSet::new();
    let mut referenced = BTreeSet::new();
    for out in outputs {
        let kind = out["type"].as_str().unwrap();
        let file = c
            .get(out["url"].as_str().unwrap())
            .header("Authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(file.status(), 200, "{kind}");
        assert_eq!(file.headers()["content-type"], "application/fhir+ndjson");
        let text = file.text().await.unwrap();
        assert!(text.ends_with('\n'), "{kind}: NDJSON ends each line");
        let mut lines = 0;
        for line in text.lines() {
            let r: Value = serde_json::from_str(line).expect("every line is one JSON document");
            assert_eq!(r["resourceType"], kind);
            let mut errors = Vec::new();
            emr_harness::schema::fhir::check_resource(&r, kind, &mut errors);
            assert!(errors.is_empty(), "{kind} {}: {errors:?}", r["id"]);
            match kind {
                "Patient" => {
                    patients.insert(format!("Patient/{}", r["id"].as_str().unwrap()));
                }
                _ => {
                    referenced.insert(r["subject"]["reference"].as_str().unwrap().to_owned());
                }
            }
            lines += 1;
        }
        assert!(lines > 0, "{kind} file is empty");
    }
    assert_eq!(patients.len(), 50, "every seeded patient is exported");
    assert!(
        referenced.is_subset(&patients),
        "encounters and observations point at exported patients"
    );

    // Unauthenticated downloads are refused.
    let first = outputs[0]["url"].as_str().unwrap();
    assert_eq!(c.get(first).send().await.unwrap().status(), 401);

    // Files expire an hour after the export (a fresh token: the mock's
    // clock moved past the hour).
    c.post(format!("{base}/__admin/clock"))
        .json(&json!({"advance_seconds": 3601}))
        .send()
        .await
        .unwrap();
    let bearer = system_token(&c, &base, &creds, SCOPE).await;
    let expired = c
        .get(first)
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 404, "export files live an hour");

    // Deleting the job answers 202; its status is then an invalid job.
    let deleted = c
        .delete(&status_url)
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 202);
    let status = c
        .get(&status_url)
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 400);
}
