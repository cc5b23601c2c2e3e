//! The engine against servers that get it wrong on purpose: one accepts
//! anything, one refuses anything. A fuzz step must fail on both, with a
//! shrunk mutant, the request and the seed; and pass where the answers
//! are right (the scenarios under `scenarios/fuzz/` run it on the mock).

use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use emr_catalog::ProfileId;
use serde_json::json;

use crate::outcome::{FailureKind, ScenarioOutcome, Status};
use crate::runner::{run, RunOptions};
use crate::snapshot::{SnapshotMode, Snapshots};
use crate::target::{Target, TargetKind};

/// A server that answers every request with `status` and `body`.
async fn server(status: StatusCode, body: &'static str) -> String {
    let app = axum::Router::new().fallback(move || async move {
        (
            status,
            [
                ("content-type", "application/json"),
                ("www-authenticate", "OAuth"),
            ],
            body,
        )
            .into_response()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

async fn fuzz(root: &str, families: &str, seed: u64) -> ScenarioOutcome {
    let yaml = format!(
        r#"
name: fuzz against a broken server
profile: oscar
auth: {{oauth1: {{consumer_key: ck, consumer_secret: cs, token: tk, token_secret: the-token-secret}}}}
steps:
  - request: {{path: /ws/services/status/checkIfAuthed, query: {{a: '1'}}}}
    expect: {{status: 200, json: {{$.success: true}}}}
    fuzz: {{families: {families}, cases: 8}}
"#
    );
    let s = crate::scenario::parse(Path::new("t.yaml"), "t".into(), &yaml)
        .unwrap()
        .remove(0);
    let target = Target::new(TargetKind::Live, ProfileId::Oscar, root, json!({}));
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        snapshots: Snapshots {
            dir: dir.path().to_owned(),
            mode: SnapshotMode::CompareOnly,
            redact_personal: false,
        },
        insecure: false,
        run_id: "t".into(),
        policy: Default::default(),
        fuzz: super::FuzzSettings { cases: None, seed },
    };
    let opts = Arc::new(opts);
    run(&s, &target, &opts).await
}

#[tokio::test]
async fn a_server_that_accepts_every_mutant_fails_with_a_shrunk_one() {
    let root = server(StatusCode::OK, r#"{"success":true}"#).await;
    let o = fuzz(
        &root,
        "[oauth1.signature.bits, oauth1.timestamp.stale, oauth1.parameters.reordered]",
        7,
    )
    .await;
    assert_eq!(o.status, Status::Failed);
    let step = &o.steps[0];
    let summary = step.fuzz.as_ref().unwrap();
    let kind = |id: &str| summary.kinds.iter().find(|k| k.kind == id).unwrap();

    // The first accepted mutant stops the kind, shrunk to the least change.
    let bits = kind("oauth1.signature.bits");
    assert_eq!((bits.cases, bits.accepted), (1, 1));
    let f = bits.failure.as_ref().unwrap();
    assert!(
        f.mutant.contains("signature bits [0] flipped"),
        "{}",
        f.mutant
    );
    assert!(f.replay.contains("--fuzz-seed 7"), "{}", f.replay);
    let x = f.exchange.as_ref().unwrap();
    assert_eq!(x.status, Some(200));
    let auth = &x
        .request_headers
        .iter()
        .find(|(n, _)| n == "Authorization")
        .unwrap()
        .1;
    // The header shows what was sent, without token or signature.
    assert!(auth.contains(r#"oauth_consumer_key="ck""#), "{auth}");
    assert!(auth.contains(r#"oauth_token="[secret]""#), "{auth}");
    assert!(auth.contains(r#"oauth_signature="[secret]""#), "{auth}");
    assert!(!format!("{o:?}").contains("the-token-secret"));

    let stale = kind("oauth1.timestamp.stale");
    let f = stale.failure.as_ref().unwrap();
    assert!(f.mutant.contains("-305 s"), "{}", f.mutant);
    assert!(f.shrink_steps > 0);

    // Reordering means nothing: accepting it is right.
    let reordered = kind("oauth1.parameters.reordered");
    assert_eq!((reordered.accepted, reordered.violations()), (8, 0));

    let fuzz_failures: Vec<_> = step
        .failures
        .iter()
        .filter(|f| f.kind == FailureKind::Fuzz)
        .collect();
    assert_eq!(fuzz_failures.len(), 2, "{:?}", step.failures);
    assert!(fuzz_failures[0]
        .message
        .contains("accepted, all must be refused"));
}

#[tokio::test]
async fn a_server_that_refuses_everything_fails_the_valid_request_first() {
    let root = server(StatusCode::UNAUTHORIZED, "").await;
    let o = fuzz(&root, "oauth1", 1).await;
    assert_eq!(o.status, Status::Failed);
    let step = &o.steps[0];
    assert!(step.fuzz.is_none(), "nothing is mutated");
    assert!(
        step.failures
            .iter()
            .any(|f| f.message.contains("the valid request does not meet")),
        "{:?}",
        step.failures
    );
}

#[tokio::test]
async fn the_same_seed_draws_the_same_mutants() {
    let root = server(StatusCode::OK, r#"{"success":true}"#).await;
    let a = fuzz(&root, "[oauth1.parameters.changed]", 42).await;
    let b = fuzz(&root, "[oauth1.parameters.changed]", 42).await;
    let mutant = |o: &ScenarioOutcome| {
        o.steps[0].fuzz.as_ref().unwrap().kinds[0]
            .failure
            .as_ref()
            .unwrap()
            .mutant
            .clone()
    };
    assert_eq!(mutant(&a), mutant(&b));
    // Shrunk to the first signed parameter, emptied.
    assert!(
        mutant(&a).contains(r#"(oauth_consumer_key = "")"#),
        "{}",
        mutant(&a)
    );
}
