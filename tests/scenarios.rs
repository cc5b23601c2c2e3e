//! Every scenario under `scenarios/` as one test, against a fresh
//! in-process mock: `cargo test -- demographics` runs the scenarios whose
//! id contains "demographics".
//!
//! Snapshots are compared, never written; set `UPDATE_SNAPSHOTS=1` to
//! record them (or use `emr-conformance run --update-snapshots`).

use std::path::PathBuf;
use std::sync::Arc;

use emr_conformance::provision::EmbeddedMock;
use emr_harness::outcome::Status;
use emr_harness::report::console::{failure_details, Style};
use emr_harness::runner::{self, RunOptions};
use emr_harness::scenario::load_all;
use emr_harness::snapshot::{SnapshotMode, Snapshots};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    // Cargo runs integration tests from the package root.
    let (scenarios, errors) = load_all(&[PathBuf::from("scenarios")]);
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let opts = Arc::new(RunOptions {
        snapshots: Snapshots {
            dir: PathBuf::from("snapshots"),
            mode: if update {
                SnapshotMode::Update
            } else {
                SnapshotMode::CompareOnly
            },
            redact_personal: false,
        },
        insecure: false,
        run_id: "cargo-test".into(),
        policy: Default::default(),
        // Fixed unless asked, so CI runs the same mutants every time:
        // FUZZ_SEED=N FUZZ_CASES=M cargo test -- fuzz
        fuzz: emr_harness::fuzz::FuzzSettings {
            cases: env_number("FUZZ_CASES").map(|n| n.max(1) as u32),
            seed: env_number("FUZZ_SEED").unwrap_or(0),
        },
    });

    let mut trials: Vec<Trial> = errors
        .into_iter()
        .map(|e| {
            let name = format!("load::{}", e.file.display());
            Trial::test(name, move || Err(Failed::from(e.to_string())))
        })
        .collect();
    for scenario in scenarios {
        let opts = opts.clone();
        let name = scenario.id.clone();
        trials.push(Trial::test(name, move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("runtime: {e}"))?;
            let outcome = runtime.block_on(async {
                let (server, target) = EmbeddedMock::default()
                    .start(scenario.profile)
                    .await
                    .map_err(|e| format!("could not start the mock: {e}"))?;
                let outcome = runner::run(&scenario, &target, &opts).await;
                let _ = server.shutdown().await;
                Ok::<_, String>(outcome)
            })?;
            if outcome.status == Status::Failed {
                let mut text = Vec::new();
                let _ = failure_details(&outcome, &mut text, Style { color: false });
                return Err(String::from_utf8_lossy(&text).into_owned().into());
            }
            Ok(())
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}
