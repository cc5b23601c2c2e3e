//! Running many scenarios: provisioning a target for each, in parallel up
//! to `jobs`, and collecting the outcomes in a stable order.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use emr_catalog::ProfileId;
use tokio::sync::Semaphore;

use crate::coverage::{self, ProfileCoverage};
use crate::outcome::{Failure, FailureKind, ScenarioOutcome, Status};
use crate::runner::{self, RunOptions};
use crate::scenario::Scenario;
use crate::target::Target;

/// A target held for one scenario; dropping the guard releases it (for
/// the embedded mock: stops the server).
pub struct Lease {
    pub target: Target,
    pub guard: Box<dyn Send + Sync>,
}

/// Hands out targets. The embedded mock starts a fresh server per lease;
/// a live target hands out the same server every time.
pub trait Provisioner: Send + Sync {
    fn lease(
        &self,
        profile: ProfileId,
    ) -> Pin<Box<dyn Future<Output = Result<Lease, String>> + Send + '_>>;
}

/// Progress of a suite, for live output.
#[derive(Debug)]
pub enum Event<'a> {
    Started { id: &'a str, running: usize },
    Finished(&'a ScenarioOutcome),
}

/// The outcome of a whole run.
#[derive(Debug, Clone)]
pub struct SuiteOutcome {
    pub started: DateTime<Utc>,
    pub duration: Duration,
    pub target: String,
    pub outcomes: Vec<ScenarioOutcome>,
    pub coverage: Vec<ProfileCoverage>,
    /// What the command adds after the run: expected results, drift.
    pub extras: crate::report::extras::RunExtras,
}

impl SuiteOutcome {
    pub fn count(&self, status: Status) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }

    /// No failure that an expected-results file does not accept.
    pub fn passed(&self) -> bool {
        !self.outcomes.iter().any(ScenarioOutcome::is_new_failure)
    }
}

/// Runs the scenarios, at most `jobs` at a time.
pub async fn run<F>(
    scenarios: Vec<Scenario>,
    provisioner: Arc<dyn Provisioner>,
    opts: Arc<RunOptions>,
    jobs: usize,
    target_label: String,
    on_event: F,
) -> SuiteOutcome
where
    F: Fn(Event<'_>) + Send + Sync + 'static,
{
    let started_at = Utc::now();
    let started = Instant::now();
    let on_event = Arc::new(on_event);
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, scenario) in scenarios.into_iter().enumerate() {
        let permits = permits.clone();
        let provisioner = provisioner.clone();
        let opts = opts.clone();
        let on_event = on_event.clone();
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = permits.clone().acquire_owned().await.ok();
            let running = jobs.max(1) - permits.available_permits();
            on_event(Event::Started {
                id: &scenario.id,
                running,
            });
            let outcome = match provisioner.lease(scenario.profile).await {
                Ok(lease) => {
                    let outcome = runner::run(&scenario, &lease.target, &opts).await;
                    drop(lease);
                    outcome
                }
                Err(e) => setup_failure(&scenario, e),
            };
            on_event(Event::Finished(&outcome));
            (index, outcome)
        });
    }
    let mut outcomes: Vec<(usize, ScenarioOutcome)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(x) => outcomes.push(x),
            // A panicking scenario task is a harness bug; it must still
            // show up as a failure rather than vanish.
            Err(e) => outcomes.push((usize::MAX, panic_outcome(e.to_string()))),
        }
    }
    outcomes.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    let outcomes: Vec<ScenarioOutcome> = outcomes.into_iter().map(|(_, o)| o).collect();
    let coverage = coverage::compute(&outcomes);
    SuiteOutcome {
        started: started_at,
        duration: started.elapsed(),
        target: target_label,
        outcomes,
        coverage,
        extras: Default::default(),
    }
}

fn setup_failure(scenario: &Scenario, reason: String) -> ScenarioOutcome {
    let mut o = ScenarioOutcome::empty(scenario);
    o.status = Status::Failed;
    o.failures = vec![Failure::new(FailureKind::Setup, "target", reason)];
    o
}

fn panic_outcome(reason: String) -> ScenarioOutcome {
    ScenarioOutcome {
        id: "(harness)".into(),
        name: "harness task".into(),
        profile: ProfileId::Oscar,
        file: String::new(),
        tags: Vec::new(),
        requirements: Vec::new(),
        status: Status::Failed,
        duration: Duration::ZERO,
        network: Duration::ZERO,
        client_crypto: Duration::ZERO,
        steps: Vec::new(),
        failures: vec![Failure::new(
            FailureKind::Setup,
            "harness",
            format!("a scenario task panicked: {reason}"),
        )],
        exercised: Vec::new(),
        covers: Vec::new(),
        skip_reason: None,
        cleanup: Vec::new(),
        left_behind: Vec::new(),
        expectation: None,
    }
}
