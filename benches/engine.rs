//! The scenario engine's own cost: scenarios per second against the
//! in-process mock, and how much of each step is the engine (templates,
//! auth, checks, captures, snapshots) rather than waiting for the server.
//!
//! `cargo bench --bench engine [-- --rounds N] [--steps-only] [--no-fuzz]
//! [--only TEXT] [--worst N]`: `--only` measures the scenarios whose id
//! contains TEXT, `--worst` lists the N where the engine works longest.
//!
//! Two measurements:
//! - **suite**: what `emr-conformance run` does, a fresh mock per scenario;
//! - **steps**: the same runs, sequential, each step's time split between
//!   waiting on the mock and the engine (mock start-up is outside every
//!   step), in rounds that each pass over every scenario.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emr_conformance::provision::EmbeddedMock;
use emr_harness::outcome::Status;
use emr_harness::runner::{self, RunOptions};
use emr_harness::scenario::load_all;
use emr_harness::snapshot::{SnapshotMode, Snapshots};
use emr_harness::suite;

/// The allocator the `emr-conformance` binary runs the suite with: the
/// engine's cost is measured as `run` pays it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The value after `name` on the command line.
fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != name);
    args.nth(1)
}

fn rounds() -> usize {
    arg("--rounds").and_then(|n| n.parse().ok()).unwrap_or(20)
}

/// `--steps-only`: skip the suite measurement (for profiling the steps).
fn steps_only() -> bool {
    std::env::args().any(|a| a == "--steps-only")
}

/// `--no-fuzz`: skip the fuzz scenarios in the steps (for profiling an
/// ordinary step, which their mutants would otherwise drown).
fn no_fuzz() -> bool {
    std::env::args().any(|a| a == "--no-fuzz")
}

fn main() {
    let (scenarios, errors) = load_all(&[PathBuf::from("scenarios")]);
    assert!(errors.is_empty(), "scenario files do not load: {errors:?}");
    let rounds = rounds();
    let only = arg("--only");
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
    for _ in 0..if steps_only() { 0 } else { rounds } {
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
    if !steps_only() {
        println!(
        "suite: {total} scenarios in {:.3}s over {rounds} rounds, {jobs} jobs: {:.0} scenarios/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    }

    // Steps: sequential, a fresh mock per scenario run (its start-up is
    // outside the steps' time).
    // Fuzz scenarios are reported apart: generating and signing mutants
    // is the client's work by design, so they would blur the engine's
    // share of an ordinary step.
    // Kept per round: a round a neighbour's load slowed shows as an
    // outlier among the rounds instead of moving the whole figure.
    let mut by_round = vec![[Split::default(), Split::default()]; rounds];
    let mut by_scenario: std::collections::HashMap<&str, Split> = Default::default();
    rt.block_on(async {
        let chosen: Vec<_> = scenarios
            .iter()
            .map(|scenario| {
                let mut steps = scenario.steps.iter().chain(&scenario.cleanup);
                (scenario, usize::from(steps.any(|s| s.fuzz.is_some())))
            })
            .filter(|(_, fuzz)| *fuzz == 0 || !no_fuzz())
            .filter(|(scenario, _)| {
                only.as_ref()
                    .is_none_or(|o| scenario.id.contains(o.as_str()))
            })
            .collect();
        // Rounds outermost, each a pass over every scenario with a fresh
        // mock, as `run` makes them: a slow spell of the machine falls
        // within a round or two, and no step finds its caches warm from
        // the same scenario just before.
        for round in &mut by_round {
            for &(scenario, fuzz) in &chosen {
                let (server, target) = EmbeddedMock::default()
                    .start(scenario.profile)
                    .await
                    .expect("mock starts");
                let o = runner::run(scenario, &target, &opts).await;
                assert_eq!(o.status, Status::Passed, "{}", o.id);
                let steps = o.steps.iter().chain(&o.cleanup);
                let this = Split {
                    steps: steps
                        .clone()
                        .filter(|s| s.status != Status::Skipped)
                        .count(),
                    time: steps.map(|s| s.duration).sum::<Duration>(),
                    waiting: o.network,
                    crypto: o.client_crypto,
                };
                by_scenario
                    .entry(scenario.id.as_str())
                    .or_default()
                    .add(&this);
                round[fuzz].add(&this);
                let _ = server.shutdown().await;
            }
        }
    });
    if let Some(n) = arg("--worst").and_then(|n| n.parse().ok()) {
        let mut worst: Vec<_> = by_scenario.into_iter().collect();
        worst.sort_by_key(|(_, s)| std::cmp::Reverse(s.own()));
        println!("the {n} scenarios where the engine works longest (its own work per run, steps per run, share):");
        for (id, s) in worst.into_iter().take(n) {
            println!(
                "  {:>8.1} µs {:>3} steps {:>5.1}%  {id}",
                s.own().as_secs_f64() * 1e6 / rounds as f64,
                s.steps / rounds,
                s.own_share()
            );
        }
    }
    let [mut plain, mut fuzz] = [Split::default(), Split::default()];
    for [p, f] in &by_round {
        plain.add(p);
        fuzz.add(f);
    }
    let mut all = plain;
    all.add(&fuzz);
    for (what, s) in [
        ("steps", &all),
        ("steps without fuzz", &plain),
        ("fuzz steps", &fuzz),
    ] {
        s.print(what);
    }
    let mut shares: Vec<f64> = by_round.iter().map(|[p, _]| p.own_share()).collect();
    shares.sort_by(f64::total_cmp);
    if let (Some(low), Some(high)) = (shares.first(), shares.last()) {
        println!(
            "the engine's own work in a step without fuzz, by round: median {:.1}%, range {low:.1}–{high:.1}% over {rounds} rounds",
            shares[shares.len() / 2],
        );
    }
}

/// Steps and their time: in all, waiting on the mock (every request the
/// step sent, its auth driver's included), and of the engine's share the
/// client protocol's own cryptography (RSA key generation and signing,
/// which any private_key_jwt client does).
#[derive(Default, Clone, Copy)]
struct Split {
    steps: usize,
    time: Duration,
    waiting: Duration,
    crypto: Duration,
}

impl Split {
    fn add(&mut self, other: &Split) {
        self.steps += other.steps;
        self.time += other.time;
        self.waiting += other.waiting;
        self.crypto += other.crypto;
    }

    /// The engine's own work: neither waiting nor crypto.
    fn own(&self) -> Duration {
        self.time
            .saturating_sub(self.waiting)
            .saturating_sub(self.crypto)
    }

    /// [`Split::own`] in percent of the steps' time.
    fn own_share(&self) -> f64 {
        100.0 * self.own().as_secs_f64() / self.time.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    fn print(&self, what: &str) {
        let n = self.steps.max(1) as f64;
        let us = |d: Duration| d.as_secs_f64() * 1e6 / n;
        let share =
            |d: Duration| 100.0 * d.as_secs_f64() / self.time.as_secs_f64().max(f64::MIN_POSITIVE);
        let engine = self.time.saturating_sub(self.waiting);
        let own = engine.saturating_sub(self.crypto);
        println!(
            "{what}: {} steps, {:.1} µs per step, of which waiting for the mock {:.1} µs and the engine {:.1} µs ({:.1}% of the step)",
            self.steps,
            us(self.time),
            us(self.waiting),
            us(engine),
            share(engine),
        );
        println!(
            "  the engine's {:.1} µs: client crypto (RSA keygen, signing) {:.1} µs ({:.1}%), the engine's own work {:.1} µs ({:.1}%)",
            us(engine),
            us(self.crypto),
            share(self.crypto),
            us(own),
            share(own),
        );
    }
}
