//! The scenario engine's own cost: scenarios per second against the
//! in-process mock, and how much of each step is the engine (templates,
//! auth, checks, captures, snapshots) rather than waiting for the server.
//!
//! `cargo bench --bench engine [-- --rounds N]`
//!
//! Two measurements:
//! - **suite**: what `emr-conformance run` does, a fresh mock per scenario;
//! - **steps**: one mock per profile, scenarios repeated, so the per-step
//!   split between engine and server is not blurred by mock start-up.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emr_conformance::provision::EmbeddedMock;
use emr_harness::outcome::Status;
use emr_harness::runner::{self, RunOptions};
use emr_harness::scenario::load_all;
use emr_harness::snapshot::{SnapshotMode, Snapshots};
use emr_harness::suite;

fn rounds() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
}

fn main() {
    let (scenarios, errors) = load_all(&[PathBuf::from("scenarios")]);
    assert!(errors.is_empty(), "scenario files do not load: {errors:?}");
    let rounds = rounds();
    let opts = Arc::new(RunOptions {
        snapshots: Snapshots {
            dir: PathBuf::from("snapshots"),
            mode: SnapshotMode::CompareOnly,
            redact_personal: false,
        },
        insecure: false,
        run_id: "bench".into(),
        policy: Default::default(),
        fuzz: Default::default(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());

    // Suite: the `run` command's path, fresh mock per scenario.
    let started = Instant::now();
    let mut total = 0usize;
    for _ in 0..rounds {
        let out = rt.block_on(suite::run(
            scenarios.clone(),
            Arc::new(EmbeddedMock::default()),
            opts.clone(),
            jobs,
            "bench".into(),
            |_| {},
        ));
        assert!(out.passed(), "the suite must pass to be measured");
        total += out.outcomes.len();
    }
    let elapsed = started.elapsed();
    println!(
        "suite: {total} scenarios in {:.3}s over {rounds} rounds, {jobs} jobs: {:.0} scenarios/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );

    // Steps: one mock per scenario kept for all rounds; sequential.
    let (mut steps, mut step_time, mut network) = (0usize, Duration::ZERO, Duration::ZERO);
    rt.block_on(async {
        for scenario in &scenarios {
            let (server, target) = EmbeddedMock::default()
                .start(scenario.profile)
                .await
                .expect("mock starts");
            for _ in 0..rounds {
                let state = server.state();
                state.reset(None, None);
                let o = runner::run(scenario, &target, &opts).await;
                assert_eq!(o.status, Status::Passed, "{}", o.id);
                steps += o.steps.len();
                step_time += o.steps.iter().map(|s| s.duration).sum::<Duration>();
                network += o.network;
            }
            let _ = server.shutdown().await;
        }
    });
    let engine = step_time.saturating_sub(network);
    println!(
        "steps: {steps} steps, {:.1} µs per step, of which waiting for the mock {:.1} µs and the engine {:.1} µs ({:.1}% of the step)",
        step_time.as_secs_f64() * 1e6 / steps as f64,
        network.as_secs_f64() * 1e6 / steps as f64,
        engine.as_secs_f64() * 1e6 / steps as f64,
        100.0 * engine.as_secs_f64() / step_time.as_secs_f64()
    );
}
