//! The loop: for every selected kind, draw mutants from its seeded
//! strategy, send each, judge the answer against the profile's
//! expectation, and shrink the first wrong one.

use std::time::{Duration, Instant};

use proptest::strategy::{SBoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::expectations::{self, Expectations, Verdict};
use super::io::{Io, StepCx};
use super::{oauth1, oauth2, wss, FuzzFailure, FuzzSpec, FuzzSummary, KindStats};
use crate::check::check;
use crate::outcome::{Exchange, Failure, FailureKind, Status, StepOutcome};
use crate::scenario::{Action, AuthSpec, Expect, Step, Vars};
use crate::transport::{HttpRequest, HttpResponse};

/// Simplifications tried on a failing mutant (each sends requests).
const MAX_SHRINK_ITERS: u32 = 48;

/// What a channel sent for a case: the request whose answer is judged.
pub(crate) struct Sent {
    pub request: HttpRequest,
    pub response: HttpResponse,
    /// A redacted rendering of the credential the request carried (the
    /// OAuth header without its secrets), shown instead of `[secret]`.
    pub credential: Option<String>,
    /// What the mutant changed, concretely (`oauth_timestamp = "x"`).
    pub note: Option<String>,
}

/// A channel: where the step's credential is checked.
pub(crate) enum Chan {
    OAuth1(Box<oauth1::Chan>),
    OAuth2(Box<oauth2::Chan>),
    Wss(Box<wss::Chan>),
}

/// A mutant of any channel.
#[derive(Debug, Clone)]
pub(crate) enum Mutant {
    OAuth1(oauth1::Mutant),
    OAuth2(oauth2::Mutant),
    Wss(wss::Mutant),
}

impl Chan {
    /// The refusal class of the step's channel.
    fn class(&self) -> &'static str {
        match self {
            Chan::OAuth1(c) => c.class(),
            Chan::OAuth2(_) => "oauth2-api",
            Chan::Wss(_) => "wss",
        }
    }

    /// The kinds this channel implements, each with a reason when it does
    /// not apply to this step or target.
    fn kinds(&self, io: &Io<'_, '_>) -> Vec<(&'static str, Option<String>)> {
        match self {
            Chan::OAuth1(c) => c.kinds(io),
            Chan::OAuth2(c) => c.kinds(io),
            Chan::Wss(c) => c.kinds(io),
        }
    }

    fn strategy(&self, kind: &str) -> SBoxedStrategy<Mutant> {
        match self {
            Chan::OAuth1(c) => c.strategy(kind).prop_map(Mutant::OAuth1).sboxed(),
            Chan::OAuth2(c) => c.strategy(kind).prop_map(Mutant::OAuth2).sboxed(),
            Chan::Wss(c) => c.strategy(kind).prop_map(Mutant::Wss).sboxed(),
        }
    }

    async fn valid(&mut self, io: &mut Io<'_, '_>) -> Result<Sent, String> {
        match self {
            Chan::OAuth1(c) => c.valid(io).await,
            Chan::OAuth2(c) => c.valid(io).await,
            Chan::Wss(c) => c.valid(io).await,
        }
    }

    async fn case(
        &mut self,
        io: &mut Io<'_, '_>,
        kind: &str,
        m: &Mutant,
        accept: &Expect,
    ) -> Result<Sent, String> {
        match (self, m) {
            (Chan::OAuth1(c), Mutant::OAuth1(m)) => c.case(io, kind, m, accept).await,
            (Chan::OAuth2(c), Mutant::OAuth2(m)) => c.case(io, kind, m, accept).await,
            (Chan::Wss(c), Mutant::Wss(m)) => c.case(io, kind, m, accept).await,
            _ => Err("a mutant of another channel".to_owned()),
        }
    }

    /// Obtains a new credential after one was revoked.
    async fn renew(&mut self, io: &mut Io<'_, '_>) -> Result<(), String> {
        match self {
            Chan::OAuth1(c) => c.renew(io).await,
            Chan::OAuth2(_) | Chan::Wss(_) => Ok(()),
        }
    }

    /// What an accepted answer looks like for `kind` when it is not the
    /// step's own request (the token endpoint's kinds).
    fn acceptance(&self, kind: &str) -> Option<Expect> {
        match self {
            Chan::OAuth2(c) => c.acceptance(kind),
            _ => None,
        }
    }

    /// Leaves the scenario as the driver left it (published variables).
    async fn finish(&mut self, io: &mut Io<'_, '_>) {
        if let Chan::OAuth2(c) = self {
            c.finish(io).await;
        }
    }
}

/// Runs a fuzz step. Never panics; every problem is a failure of the step.
pub async fn run_step(
    step: &Step,
    spec: &FuzzSpec,
    cx: &mut StepCx<'_>,
    vars: &mut Vars,
) -> StepOutcome {
    let started = Instant::now();
    let mut out = StepOutcome {
        name: step.name.clone(),
        status: Status::Passed,
        duration: Duration::ZERO,
        attempts: 0,
        exchange: None,
        failures: Vec::new(),
        skip_reason: None,
        fuzz: None,
    };
    let redactor = cx.opts.policy.redactor.clone();
    if let Err(f) = run_inner(step, spec, cx, vars, &mut out).await {
        out.failures.push(f);
    }
    // Everything shown is scrubbed once more of the secrets the run knows.
    if let Some(summary) = &mut out.fuzz {
        for k in &mut summary.kinds {
            if let Some(f) = &mut k.failure {
                f.mutant = redactor.scrub(&f.mutant);
                for p in &mut f.problems {
                    p.message = redactor.scrub(&p.message);
                }
                if let Some(x) = &mut f.exchange {
                    scrub_exchange(&redactor, x);
                }
            }
        }
    }
    if !out.failures.is_empty() {
        out.status = Status::Failed;
    }
    out.duration = started.elapsed();
    out
}

fn scrub_exchange(r: &crate::redact::Redactor, x: &mut Exchange) {
    x.url = r.scrub(&x.url);
    for (_, v) in &mut x.request_headers {
        *v = r.scrub(v);
    }
    if let Some(b) = &mut x.request_body {
        *b = r.scrub(b);
    }
    if let Some(b) = &mut x.response_body {
        *b = r.scrub(b);
    }
}

fn setup(message: impl Into<String>) -> Failure {
    Failure::new(FailureKind::Setup, "fuzz", message)
}

async fn build_channel(step: &Step, io: &mut Io<'_, '_>) -> Result<Chan, Failure> {
    let auth = step.auth.as_ref().unwrap_or(&io.cx.scenario.auth);
    match (&step.action, auth) {
        (Action::Request(r), AuthSpec::OAuth1(o)) => oauth1::Chan::new(r, o, io)
            .await
            .map(|c| Chan::OAuth1(Box::new(c))),
        (Action::Request(r), AuthSpec::OAuth2(o)) => oauth2::Chan::new(r, o, io)
            .await
            .map(|c| Chan::OAuth2(Box::new(c))),
        (Action::Soap(s), AuthSpec::Wss(w)) => wss::Chan::new(s, w, io)
            .await
            .map(|c| Chan::Wss(Box::new(c))),
        (_, other) => Err(format!(
            "a fuzz step needs `oauth1` or `oauth2` on a `request`, or `wss` on a `soap` call (this one has `{}`)",
            other.name()
        )),
    }
    .map_err(setup)
}

async fn run_inner(
    step: &Step,
    spec: &FuzzSpec,
    cx: &mut StepCx<'_>,
    vars: &mut Vars,
    out: &mut StepOutcome,
) -> Result<(), Failure> {
    let data = expectations::get().map_err(setup)?;
    let settings = cx.opts.fuzz.clone();
    let profile = cx.scenario.profile;
    let cases = spec.cases(&settings);
    let replay = replay_command(cx, settings.seed, cases);
    let scenario_id = cx.scenario.id.clone();
    let step_key = cx.step_key.to_owned();
    let mut io = Io { cx, vars };
    let mut chan = build_channel(step, &mut io).await?;
    io.drain_driver_calls();

    // The valid request must pass before anything is mutated.
    let before = chan.valid(&mut io).await.map_err(setup)?;
    out.attempts += 1;
    out.exchange = Some(shown(&before));
    let failures = check(&step.expect, &before.response, io.vars);
    if !failures.is_empty() {
        out.failures.extend(failures);
        return Err(setup(
            "the valid request does not meet the step's `expect`, so there is nothing to mutate",
        ));
    }

    let mut summary = FuzzSummary {
        seed: settings.seed,
        cases_per_kind: cases,
        kinds: Vec::new(),
    };
    let mut stale = false;
    let channel_class = chan.class();
    for (kind, not_applicable) in chan.kinds(&io) {
        if !spec.families.is_empty()
            && !spec.families.iter().any(|s| Expectations::selects(s, kind))
        {
            continue;
        }
        let Some(expected) = data.kind(kind, profile) else {
            return Err(setup(format!(
                "`{kind}` has no entry in harness/data/fuzz.yaml"
            )));
        };
        let mut stats = KindStats {
            kind: kind.to_owned(),
            family: Expectations::family_of(kind).to_owned(),
            expect: expected.verdict,
            why: expected.why.clone(),
            cases: 0,
            refused: 0,
            accepted: 0,
            other: 0,
            shrink_runs: 0,
            duration: Duration::ZERO,
            cases_per_second: 0.0,
            not_applicable,
            failure: None,
        };
        if stats.not_applicable.is_some() {
            summary.kinds.push(stats);
            continue;
        }
        let class = if expected.refusal == "channel" {
            channel_class
        } else {
            expected.refusal.as_str()
        };
        // A kind the profile accepts may have no refusal on record: its
        // answers are judged by the step's `expect` alone.
        let refusal = match (&spec.refused, data.refusal(class, profile)) {
            (Some(r), _) => Some(r.clone()),
            (None, Some(r)) => Some(r.clone()),
            (None, None) if expected.verdict == Verdict::Accepted => None,
            (None, None) => {
                return Err(setup(format!(
                "harness/data/fuzz.yaml says how {profile} refuses nothing in `{class}` ({kind})"
            )))
            }
        };
        let acceptance = chan.acceptance(kind).unwrap_or_else(|| step.expect.clone());
        let judge = Judge {
            verdict: expected.verdict,
            refusal: refusal.as_ref(),
            acceptance: &acceptance,
            revokes: data.revokes(class, profile),
        };
        let seed = kind_seed(settings.seed, &scenario_id, &step_key, kind);
        let mut gen = Generator::start(chan.strategy(kind), seed, cases);
        let started = Instant::now();
        let mut failing: Option<(Mutant, CaseResult)> = None;
        let mut shrink_steps = 0;
        while let Some(item) = gen.next().await {
            let (m, shrinking) = match item {
                GenItem::Case(m) => (m, false),
                GenItem::Shrink(m) => (m, true),
                GenItem::Broken(e) => {
                    return Err(setup(format!("{kind}: no mutant could be drawn: {e}")))
                }
            };
            let result = run_case(&mut chan, &mut io, kind, &m, &judge, &mut stale).await;
            let failed = result.is_failure(judge.verdict);
            if shrinking {
                stats.shrink_runs += 1;
                if failed {
                    shrink_steps += 1;
                    failing = Some((m, result));
                }
            } else {
                stats.cases += 1;
                match &result.outcome {
                    Judged::Refused => stats.refused += 1,
                    Judged::Accepted => stats.accepted += 1,
                    Judged::Other(_) | Judged::Error(_) => stats.other += 1,
                }
                if failed {
                    failing = Some((m, result));
                }
            }
            gen.answer(failed);
        }
        if let Some((m, last)) = failing {
            stats.failure = Some(FuzzFailure {
                mutant: match &last.note {
                    Some(n) => format!("{} ({n})", describe(kind, &m)),
                    None => describe(kind, &m),
                },
                shrink_steps,
                problems: last.problems(judge.verdict),
                exchange: last.exchange,
                replay: replay.clone(),
            });
        }
        stats.duration = started.elapsed();
        let secs = stats.duration.as_secs_f64();
        if secs > 0.0 {
            stats.cases_per_second = (f64::from(stats.cases) / secs * 10.0).round() / 10.0;
        }
        if let Some(f) = &stats.failure {
            let what = match (judge.verdict, stats.accepted) {
                (Verdict::Refused, n) if n > 0 => {
                    format!("{n} mutant(s) accepted, all must be refused")
                }
                (Verdict::Refused, _) => "a mutant was not refused as the profile refuses".into(),
                (Verdict::Accepted, _) => "a mutant that must be accepted was not".into(),
            };
            out.failures.push(Failure::new(
                FailureKind::Fuzz,
                kind,
                format!(
                    "{what}; minimal mutant: {} ({}); replay: {}",
                    f.mutant,
                    f.problems
                        .iter()
                        .map(|p| format!("{}: {}", p.subject, p.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                    f.replay
                ),
            ));
        }
        summary.kinds.push(stats);
    }

    // The valid request must still pass: the mutants broke nothing.
    if stale {
        chan.renew(&mut io).await.map_err(setup)?;
    }
    let after = chan.valid(&mut io).await.map_err(setup)?;
    out.attempts += 1;
    let failures = check(&step.expect, &after.response, io.vars);
    if !failures.is_empty() {
        out.exchange = Some(shown(&after));
        for f in failures {
            out.failures.push(Failure::new(
                f.kind,
                f.subject,
                format!("after the mutants, the valid request: {}", f.message),
            ));
        }
    }
    chan.finish(&mut io).await;
    io.drain_driver_calls();
    out.fuzz = Some(summary);
    Ok(())
}

/// How a case's answer is judged.
struct Judge<'a> {
    verdict: Verdict,
    /// `None`: the profile has no refusal on record for an accepted kind.
    refusal: Option<&'a Expect>,
    acceptance: &'a Expect,
    /// A refusal deletes the credential on this profile.
    revokes: bool,
}

#[derive(Debug, Clone)]
enum Judged {
    Refused,
    Accepted,
    /// Neither; with how it differs from the expected answer.
    Other(Vec<Failure>),
    /// The case could not be sent as designed (a setup request failed).
    Error(String),
}

struct CaseResult {
    outcome: Judged,
    exchange: Option<Exchange>,
    note: Option<String>,
}

impl CaseResult {
    fn is_failure(&self, verdict: Verdict) -> bool {
        !matches!(
            (&self.outcome, verdict),
            (Judged::Refused, Verdict::Refused) | (Judged::Accepted, Verdict::Accepted)
        )
    }

    fn problems(&self, verdict: Verdict) -> Vec<Failure> {
        match (&self.outcome, verdict) {
            (Judged::Accepted, Verdict::Refused) => vec![Failure::new(
                FailureKind::Fuzz,
                "accepted",
                "the mutant was accepted (the answer meets the step's `expect`)",
            )],
            (Judged::Refused, Verdict::Accepted) => vec![Failure::new(
                FailureKind::Fuzz,
                "refused",
                "the mutant was refused, but this profile accepts it",
            )],
            (Judged::Other(f), _) => f.clone(),
            (Judged::Error(e), _) => vec![Failure::new(FailureKind::Setup, "case", e.clone())],
            _ => Vec::new(),
        }
    }
}

fn shown(sent: &Sent) -> Exchange {
    let mut x = crate::runner::summarize(&sent.request, &sent.response);
    if let Some(c) = &sent.credential {
        for (name, v) in &mut x.request_headers {
            if name.eq_ignore_ascii_case("authorization") {
                *v = c.clone();
            }
        }
    }
    x
}

async fn run_case(
    chan: &mut Chan,
    io: &mut Io<'_, '_>,
    kind: &str,
    m: &Mutant,
    judge: &Judge<'_>,
    stale: &mut bool,
) -> CaseResult {
    if *stale {
        if let Err(e) = chan.renew(io).await {
            return CaseResult {
                outcome: Judged::Error(format!("could not obtain a new credential: {e}")),
                exchange: None,
                note: None,
            };
        }
        *stale = false;
    }
    let sent = match chan.case(io, kind, m, judge.acceptance).await {
        Ok(s) => s,
        Err(e) => {
            // A half-run case may have used the credential up.
            *stale = judge.revokes;
            return CaseResult {
                outcome: Judged::Error(e),
                exchange: None,
                note: None,
            };
        }
    };
    io.drain_driver_calls();
    let acceptance = check(judge.acceptance, &sent.response, io.vars);
    let refusal = match judge.refusal {
        Some(r) => check(r, &sent.response, io.vars),
        None => vec![Failure::new(
            FailureKind::Fuzz,
            "refusal",
            "no refusal is on record for this kind",
        )],
    };
    let outcome = match (refusal.is_empty(), acceptance.is_empty()) {
        (true, false) => Judged::Refused,
        (false, true) => Judged::Accepted,
        (true, true) => Judged::Other(vec![Failure::new(
            FailureKind::Fuzz,
            "expect",
            "the answer meets both the refusal and the step's `expect`; make the step's `expect` tell them apart",
        )]),
        (false, false) => Judged::Other(match judge.verdict {
            Verdict::Refused => refusal,
            Verdict::Accepted => acceptance,
        }),
    };
    if !matches!(outcome, Judged::Accepted) && judge.revokes {
        *stale = true;
    }
    CaseResult {
        outcome,
        exchange: Some(shown(&sent)),
        note: sent.note,
    }
}

/// What the generator thread hands out.
enum GenItem {
    /// A new case.
    Case(Mutant),
    /// A simplification of the failing case.
    Shrink(Mutant),
    /// The strategy could not draw a value.
    Broken(String),
}

/// proptest on its own thread: its value trees are not `Send`, so they
/// cannot live in the async scenario task across requests. The thread
/// draws cases, and after a failure runs proptest's shrinking loop
/// (simplify while the mutant still fails, step back when it passes),
/// waiting for each verdict.
struct Generator {
    items: tokio::sync::mpsc::UnboundedReceiver<GenItem>,
    verdicts: std::sync::mpsc::Sender<bool>,
}

impl Generator {
    fn start(strategy: SBoxedStrategy<Mutant>, seed: [u8; 32], cases: u32) -> Generator {
        let (items_tx, items) = tokio::sync::mpsc::unbounded_channel();
        let (verdicts, verdicts_rx) = std::sync::mpsc::channel::<bool>();
        std::thread::spawn(move || {
            let mut runner = TestRunner::new_with_rng(
                Config {
                    max_shrink_iters: MAX_SHRINK_ITERS,
                    ..Config::default()
                },
                TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
            );
            for _ in 0..cases {
                let mut tree = match strategy.new_tree(&mut runner) {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = items_tx.send(GenItem::Broken(e.to_string()));
                        return;
                    }
                };
                if items_tx.send(GenItem::Case(tree.current())).is_err() {
                    return;
                }
                // The scenario task went away: stop.
                let Ok(failed) = verdicts_rx.recv() else {
                    return;
                };
                if !failed {
                    continue;
                }
                if tree.simplify() {
                    for _ in 0..MAX_SHRINK_ITERS {
                        if items_tx.send(GenItem::Shrink(tree.current())).is_err() {
                            return;
                        }
                        let Ok(failed) = verdicts_rx.recv() else {
                            return;
                        };
                        let more = if failed {
                            tree.simplify()
                        } else {
                            tree.complicate()
                        };
                        if !more {
                            break;
                        }
                    }
                }
                return;
            }
        });
        Generator { items, verdicts }
    }

    async fn next(&mut self) -> Option<GenItem> {
        self.items.recv().await
    }

    fn answer(&self, failed: bool) {
        // The thread may have finished; then nobody waits for the answer.
        let _ = self.verdicts.send(failed);
    }
}

fn describe(kind: &str, m: &Mutant) -> String {
    match m {
        Mutant::OAuth1(m) => format!("{kind}: {m}"),
        Mutant::OAuth2(m) => format!("{kind}: {m}"),
        Mutant::Wss(m) => format!("{kind}: {m}"),
    }
}

/// The command that draws the same mutants again.
fn replay_command(cx: &StepCx<'_>, seed: u64, cases: u32) -> String {
    format!(
        "emr-conformance run --scenarios {} --profile {} --filter '{}' --fuzz-seed {seed} --fuzz-cases {cases}",
        cx.scenario.file.display(),
        cx.scenario.profile,
        cx.scenario.id
    )
}

/// A kind's own seed: the run's seed, the scenario, the step and the kind,
/// so adding a kind or a step leaves the others' mutants unchanged.
fn kind_seed(seed: u64, scenario: &str, step: &str, kind: &str) -> [u8; 32] {
    // FNV-1a over the parts, then splitmix64 to fill the ChaCha seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(&seed.to_le_bytes());
    feed(scenario.as_bytes());
    feed(step.as_bytes());
    feed(kind.as_bytes());
    let mut out = [0u8; 32];
    let mut x = h;
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_seeds_are_stable_and_distinct() {
        let a = kind_seed(1, "s", "step", "oauth1.signature.bits");
        assert_eq!(a, kind_seed(1, "s", "step", "oauth1.signature.bits"));
        assert_ne!(a, kind_seed(2, "s", "step", "oauth1.signature.bits"));
        assert_ne!(a, kind_seed(1, "s", "step", "oauth1.signature.length"));
        assert_ne!(kind_seed(1, "ab", "c", "k"), kind_seed(1, "a", "bc", "k"));
    }
}
