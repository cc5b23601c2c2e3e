//! Running one scenario against one target.
//!
//! Steps run in order; a failing step stops the scenario (later steps
//! usually depend on its captures) and the rest are reported as skipped.

use std::time::{Duration, Instant};

use bytes::Bytes;
use emr_catalog::{Access, Catalog};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::auth::{self, AuthContext, AuthState};
use crate::check::check_with;
use crate::outcome::{Exchange, Failure, FailureKind, ScenarioOutcome, Status, StepOutcome};
use crate::policy::{self, RunPolicy};
use crate::redact::Redactor;
use crate::scenario::{
    display, element_text, render_json, Action, AuthSpec, Body, Capture, CaptureSource, Params,
    RequestSpec, Scenario, SoapSpec, Step, Vars,
};
use crate::snapshot::{redact_text, Snapshots};
use crate::soap::{self, XmlBody};
use crate::target::{Target, TargetKind};
use crate::transport::{HttpRequest, HttpResponse, Transport};

/// Options shared by every scenario of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub snapshots: Snapshots,
    /// Accept invalid TLS certificates (live targets, explicit choice).
    pub insecure: bool,
    /// Unique per run, for synthetic data (`{{run_id}}`).
    pub run_id: String,
    /// Read-only mode, writes on live targets, redaction, recording.
    pub policy: RunPolicy,
    /// `--fuzz-cases` and `--fuzz-seed` for `fuzz` steps.
    pub fuzz: crate::fuzz::FuzzSettings,
}

/// RFC 3986 unreserved characters stay; everything else is escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a query or form component.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Whether a scenario needs the mock (it calls the admin API).
pub fn uses_admin_api(scenario: &Scenario) -> bool {
    scenario.steps.iter().any(|s| match &s.action {
        Action::Request(r) => r.path.as_str().starts_with("/__admin/"),
        Action::Soap(_) => false,
    })
}

/// Runs a scenario and reports what happened; never panics on what the
/// target sends back. Everything the outcome shows is scrubbed of secrets
/// (and, on live targets, personal data) before it is returned.
pub async fn run(scenario: &Scenario, target: &Target, opts: &RunOptions) -> ScenarioOutcome {
    let mut outcome = run_unscrubbed(scenario, target, opts).await;
    opts.policy.redactor.scrub_outcome(&mut outcome);
    outcome
}

async fn run_unscrubbed(
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
) -> ScenarioOutcome {
    let started = Instant::now();
    // The target's credentials are secrets in every artifact.
    opts.policy
        .redactor
        .register_credentials(&target.credentials);
    let mut outcome = ScenarioOutcome::empty(scenario);
    let skip = |mut outcome: ScenarioOutcome, reason: String| {
        outcome.status = Status::Skipped;
        outcome.skip_reason = Some(reason);
        outcome
    };
    if target.kind == TargetKind::Live && uses_admin_api(scenario) {
        return skip(outcome, "uses the mock's /__admin/ API".into());
    }
    let catalog = Catalog::of(scenario.profile);
    if let Some(reason) = policy::disabled_service(scenario, target, &catalog) {
        return skip(outcome, reason);
    }
    let policy = &opts.policy;
    let access: Vec<Access> = scenario
        .steps
        .iter()
        .map(|s| policy::step_access(s, &catalog))
        .collect();
    if target.kind == TargetKind::Live && !policy.read_only {
        let writes = policy::write_steps(scenario, &catalog);
        if let Some(first) = writes.first() {
            let refusal = if !policy.allow_writes {
                Some(format!(
                    "refused: step `{}` writes, and writes to a live target need --allow-writes (or run with --read-only to skip them)",
                    first.name
                ))
            } else {
                policy::live_write_rules(scenario, &catalog).err()
            };
            if let Some(message) = refusal {
                let f = Failure::new(FailureKind::Safety, "live target", message);
                return finish(outcome, started, vec![f]);
            }
        }
    }
    let mut vars = match initial_vars(scenario, target, opts) {
        Ok(v) => v,
        Err(f) => return finish(outcome, started, vec![f]),
    };
    let transport = match Transport::for_target(target, opts.insecure, policy.redactor.clone()) {
        Ok(t) => t,
        Err(e) => {
            let f = Failure::new(FailureKind::Setup, "transport", e.to_string());
            return finish(outcome, started, vec![f]);
        }
    };
    let mut auth_state = AuthState::default();
    let mut ctx = StepContext {
        scenario,
        target,
        opts,
        transport: &transport,
        catalog: &catalog,
        auth: &mut auth_state,
        exercised: &mut outcome.exercised,
        paused: Duration::ZERO,
        step_key: String::new(),
    };

    let keys = step_keys(&scenario.steps, "");
    let mut failed = false;
    let mut read_only_skips = 0usize;
    for ((step, access), key) in scenario.steps.iter().zip(&access).zip(keys) {
        let reason = if failed {
            Some("skipped: an earlier step failed".to_owned())
        } else if read_only_skips > 0 {
            Some(policy::AFTER_READ_ONLY_SKIP.to_owned())
        } else if policy.read_only && *access == Access::Write {
            read_only_skips += 1;
            Some(policy::READ_ONLY_SKIP.to_owned())
        } else {
            None
        };
        if let Some(reason) = reason {
            outcome.steps.push(skipped_step(step, reason));
            continue;
        }
        ctx.step_key = key;
        let result = run_step(step, &mut ctx, &mut vars).await;
        failed = result.status == Status::Failed;
        outcome.steps.push(result);
    }

    // Cleanup runs whatever happened above.
    let mut cleanup_failures = Vec::new();
    for (step, key) in scenario
        .cleanup
        .iter()
        .zip(step_keys(&scenario.cleanup, "cleanup: "))
    {
        let missing: Vec<String> = crate::scenario::step_references(step)
            .into_iter()
            .filter(|name| vars.get(name).is_none())
            .collect();
        if !missing.is_empty() {
            outcome.cleanup.push(skipped_step(
                step,
                format!(
                    "skipped: nothing to clean up (`{}` was never captured)",
                    missing.join("`, `")
                ),
            ));
            continue;
        }
        if policy.read_only && policy::step_access(step, &catalog) == Access::Write {
            outcome
                .cleanup
                .push(skipped_step(step, policy::READ_ONLY_SKIP.to_owned()));
            continue;
        }
        ctx.step_key = key;
        let result = run_step(step, &mut ctx, &mut vars).await;
        if result.status == Status::Failed {
            let what = result
                .exchange
                .as_ref()
                .map(|x| format!("{} {}", x.method, x.url))
                .unwrap_or_else(|| step.action.describe());
            outcome
                .left_behind
                .push(format!("cleanup step `{}` failed: {what}", step.name));
            cleanup_failures.push(Failure::new(
                FailureKind::Cleanup,
                step.name.clone(),
                format!("cleanup failed, data may be left on the target ({what})"),
            ));
        } else if let Some(leaves) = &step.leaves {
            match leaves.render(&vars) {
                Ok(text) => outcome.left_behind.push(text),
                Err(e) => outcome
                    .left_behind
                    .push(format!("{} ({e})", leaves.as_str())),
            }
        }
        outcome.cleanup.push(result);
    }
    // Waiting on the target: every request the transport sent (the
    // steps', the auth drivers', the fuzz channels') and poll intervals.
    outcome.network = transport.waited() + ctx.paused;
    outcome.client_crypto = transport.client_crypto();

    let mut failures = cleanup_failures;
    let all_ran = outcome.steps.iter().all(|s| s.status != Status::Skipped);
    if !failed && all_ran {
        for id in &scenario.covers {
            if !outcome.exercised.contains(id) {
                failures.push(Failure::new(
                    FailureKind::Coverage,
                    id.clone(),
                    "the scenario declares it covers this operation, but no step called it",
                ));
            }
        }
    }
    if read_only_skips > 0 && !failed {
        let ran = outcome
            .steps
            .iter()
            .filter(|s| s.status != Status::Skipped)
            .count();
        if ran == 0 {
            outcome.status = Status::Skipped;
        }
        outcome.skip_reason = Some(format!(
            "{} of {} steps not sent: read-only mode",
            outcome.steps.len() - ran,
            outcome.steps.len()
        ));
    }
    finish(outcome, started, failures)
}

/// Keys that name each step in recordings: its name, with `#2`, `#3`...
/// for repeated names.
fn step_keys(steps: &[Step], prefix: &str) -> Vec<String> {
    let mut seen: std::collections::HashMap<&str, usize> = Default::default();
    steps
        .iter()
        .map(|s| {
            let n = seen.entry(s.name.as_str()).or_insert(0);
            *n += 1;
            if *n == 1 {
                format!("{prefix}{}", s.name)
            } else {
                format!("{prefix}{} #{n}", s.name)
            }
        })
        .collect()
}

fn skipped_step(step: &Step, reason: String) -> StepOutcome {
    StepOutcome {
        name: step.name.clone(),
        status: Status::Skipped,
        duration: Duration::ZERO,
        attempts: 0,
        exchange: None,
        failures: Vec::new(),
        skip_reason: Some(reason),
        fuzz: None,
    }
}

fn finish(
    mut outcome: ScenarioOutcome,
    started: Instant,
    failures: Vec<Failure>,
) -> ScenarioOutcome {
    outcome.failures.extend(failures);
    outcome.exercised.sort();
    outcome.exercised.dedup();
    if !outcome.failures.is_empty()
        || outcome
            .steps
            .iter()
            .chain(outcome.cleanup.iter())
            .any(|s| s.status == Status::Failed)
    {
        outcome.status = Status::Failed;
    }
    outcome.duration = started.elapsed();
    outcome
}

/// The built-ins, then the scenario's `vars` (which may use them).
fn initial_vars(scenario: &Scenario, target: &Target, opts: &RunOptions) -> Result<Vars, Failure> {
    let mut vars = Vars::default();
    let now = chrono::Utc::now();
    vars.set(
        "base_url",
        Value::String(format!("{}{}", target.root, target.context)),
    );
    vars.set("context", Value::String(target.context.clone()));
    vars.set("profile", Value::String(target.profile.to_string()));
    vars.set("site", Value::String(target.site.clone()));
    vars.set("today", Value::String(now.format("%Y-%m-%d").to_string()));
    vars.set("dates", dates(now.date_naive()));
    vars.set("now_epoch", Value::from(now.timestamp()));
    vars.set("run_id", Value::String(opts.run_id.clone()));
    vars.set("synthetic", synthetic(&opts.run_id));
    vars.set("credentials", target.credentials.clone());
    vars.set(
        "soap_namespace",
        Value::String(
            soap::target_namespace(target.profile)
                .unwrap_or("")
                .to_owned(),
        ),
    );
    // Where the OpenEMR-family APIs are mounted (empty for other families).
    let profile = target.profile.profile();
    for (var, api) in [
        ("api_path", "api"),
        ("portal_path", "portal"),
        ("fhir_path", "fhir"),
    ] {
        let mount = profile.mount(api, &target.site).unwrap_or_default();
        vars.set(var, Value::String(mount));
    }
    for (name, value) in &scenario.vars {
        let rendered = render_json(value, &vars).map_err(|e| {
            Failure::new(FailureKind::Template, format!("vars.{name}"), e.to_string())
        })?;
        vars.set(name.clone(), rendered);
    }
    Ok(vars)
}

/// The `{{synthetic}}` built-in: values that mark records a scenario
/// creates as test data, unique per run, so they are found and removed
/// (and never mistaken for a real patient).
pub fn synthetic(run_id: &str) -> Value {
    let marker = format!("ZZTEST-{run_id}");
    serde_json::json!({
        "marker": marker,
        "last_name": marker,
        "first_name": "Synthetic",
        "email": format!("zztest-{run_id}@example.invalid"),
        "phone": "555-0100",
    })
}

/// `{{dates.*}}`: days around today that scenarios book into (UTC).
fn dates(today: chrono::NaiveDate) -> Value {
    use chrono::{Datelike, Duration, Weekday};
    let day = |d: chrono::NaiveDate| Value::String(d.format("%Y-%m-%d").to_string());
    let mut weekday = today + Duration::days(1);
    while matches!(weekday.weekday(), Weekday::Sat | Weekday::Sun) {
        weekday += Duration::days(1);
    }
    serde_json::json!({
        "yesterday": day(today - Duration::days(1)),
        "tomorrow": day(today + Duration::days(1)),
        "next_weekday": day(weekday),
        "in_a_week": day(today + Duration::days(7)),
        "in_a_month": day(today + Duration::days(30)),
        "year": today.year(),
        "month": today.month(),
    })
}

struct StepContext<'a> {
    scenario: &'a Scenario,
    target: &'a Target,
    opts: &'a RunOptions,
    transport: &'a Transport,
    catalog: &'a Catalog,
    auth: &'a mut AuthState,
    exercised: &'a mut Vec<String>,
    /// Time spent in `poll` intervals, waiting for the target to change.
    paused: Duration,
    /// The running step's name in recordings.
    step_key: String,
}

async fn run_step(step: &Step, ctx: &mut StepContext<'_>, vars: &mut Vars) -> StepOutcome {
    if let Some(spec) = &step.fuzz {
        let mut fx = crate::fuzz::StepCx {
            scenario: ctx.scenario,
            target: ctx.target,
            opts: ctx.opts,
            transport: ctx.transport,
            catalog: ctx.catalog,
            auth: ctx.auth,
            exercised: ctx.exercised,
            step_key: &ctx.step_key,
        };
        return crate::fuzz::run_step(step, spec, &mut fx, vars).await;
    }
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
    let attempts = step
        .poll
        .as_ref()
        .map_or(step.repeat, |p| p.max_attempts.max(1));
    for attempt in 1..=attempts {
        out.attempts = attempt;
        let (request, resp, op) = match exchange(step, ctx, vars).await {
            Ok(x) => x,
            Err(f) => {
                out.failures.push(f);
                break;
            }
        };
        out.exchange = Some(summarize(&request, &resp));
        pick_fields(step, &resp);
        let text = std::sync::OnceLock::new();
        let xml = XmlBody::new(&resp.body, &text);
        if let Some(poll) = &step.poll {
            let done = check_with(&poll.until, &resp, &xml, vars).is_empty();
            if !done && attempt < attempts {
                let pause = Duration::from_millis(poll.interval_ms);
                tokio::time::sleep(pause).await;
                ctx.paused += pause;
                continue;
            }
            if !done {
                out.failures.push(Failure::new(
                    FailureKind::Status,
                    "poll",
                    format!("the `until` condition did not hold after {attempts} attempts"),
                ));
                break;
            }
        }
        out.failures
            .extend(check_with(&step.expect, &resp, &xml, vars));
        if let Some(kind) = step.expect.schema {
            // A SOAP call's operation has no OpenAPI or FHIR description.
            let op = op.filter(|_| matches!(step.action, Action::Request(_)));
            out.failures
                .extend(crate::schema::check(kind, op, &request.method, &resp));
        }
        if !out.failures.is_empty() {
            break;
        }
        // A poll ends at its first passing response; a repeated step's last
        // response is the one captured and snapshotted.
        if step.poll.is_some() || attempt == attempts {
            if let Err(f) = capture_all(&step.capture, &resp, &xml, vars) {
                out.failures.push(f);
            } else if let Some(spec) = &step.snapshot {
                let shown = scrubbed(&resp, &ctx.opts.policy.redactor);
                if let Err(f) =
                    ctx.opts
                        .snapshots
                        .check(ctx.scenario, spec, &step.action.describe(), &shown)
                {
                    out.failures.push(f);
                }
            }
            break;
        }
    }
    if !out.failures.is_empty() {
        out.status = Status::Failed;
    }
    out.duration = started.elapsed();
    out
}

/// Picks the JSON fields the step reads out of the body in one pass (see
/// [`crate::json`]), unless something in the step reads the whole
/// tree: a snapshot, or a path that is not singular. (The OpenAPI and
/// FHIR checks read a body as they parse it.)
fn pick_fields(step: &Step, resp: &HttpResponse) {
    if step.snapshot.is_some() {
        return;
    }
    let captured = step.capture.values().filter_map(|c| match &c.source {
        CaptureSource::Json(path) => Some(path),
        _ => None,
    });
    let until = step.poll.iter().flat_map(|p| p.until.json.keys());
    let singular: Option<Vec<_>> = (step.expect.json.keys().chain(captured).chain(until))
        .map(|path| path.singular.as_ref())
        .collect();
    if let Some(paths) = singular {
        resp.pick(&paths);
    }
}

/// A request sent, its response, and the catalogue operation it addressed.
type Exchanged<'c> = (
    HttpRequest,
    HttpResponse,
    Option<&'c emr_catalog::Operation>,
);

/// Builds, authorizes and sends the step's request once.
async fn exchange<'c>(
    step: &Step,
    ctx: &mut StepContext<'c>,
    vars: &mut Vars,
) -> Result<Exchanged<'c>, Failure> {
    let spec = match &step.action {
        Action::Request(spec) => spec,
        Action::Soap(spec) => return soap_exchange(spec, step, ctx, vars).await,
    };
    let (mut request, path) = build(spec, ctx.target, vars)?;
    // The mock's own admin API is not authorized with the scenario's auth;
    // a step that names its auth runs the driver all the same (scenarios
    // use that to obtain a token or assertion without calling the API).
    let auth_spec = match (&step.auth, path.starts_with("/__admin/")) {
        (Some(a), _) => a,
        (None, true) => &AuthSpec::None,
        (None, false) => &ctx.scenario.auth,
    };
    let mut auth_ctx = AuthContext {
        target: ctx.target,
        transport: ctx.transport,
        state: ctx.auth,
        vars,
    };
    let authorized = auth::authorize(auth_spec, &mut auth_ctx, &mut request).await;
    // What the driver's own requests exercised counts as coverage.
    for (method, url) in std::mem::take(&mut ctx.auth.calls) {
        let path = url.strip_prefix(&ctx.target.root);
        if let Some(op) = path.and_then(|p| ctx.target.operation(ctx.catalog, &method, p)) {
            ctx.exercised.push(op.id.clone());
        }
    }
    authorized.map_err(|e| Failure::new(FailureKind::Auth, auth_spec.name(), e.to_string()))?;
    let resp = ctx.transport.send(&request).await.map_err(|e| {
        Failure::new(
            FailureKind::Transport,
            format!("{} {}", request.method, request.url),
            e.to_string(),
        )
    })?;
    let policy = &ctx.opts.policy;
    policy.redactor.collect_personal(&resp.body);
    let mut op = None;
    if !path.starts_with("/__admin/") {
        op = ctx.target.operation(ctx.catalog, &request.method, &path);
        if let Some(found) = op {
            ctx.exercised.push(found.id.clone());
        }
        if let Some(recorder) = &policy.recorder {
            let operation = op.map(|o| o.id.clone()).unwrap_or_else(|| {
                format!(
                    "(not in the catalogue) {} {}",
                    spec.method,
                    spec.path.as_str()
                )
            });
            recorder.record(
                ctx.scenario,
                &ctx.step_key,
                &operation,
                &request,
                &resp,
                &policy.redactor,
            );
        }
    }
    Ok((request, resp, op))
}

/// Builds the SOAP envelope (with the WS-Security header when the step's
/// auth is `wss`), posts it to the service, and records the operation.
async fn soap_exchange<'c>(
    spec: &SoapSpec,
    step: &Step,
    ctx: &mut StepContext<'c>,
    vars: &mut Vars,
) -> Result<Exchanged<'c>, Failure> {
    let auth_spec = step.auth.as_ref().unwrap_or(&ctx.scenario.auth);
    let mut auth_ctx = AuthContext {
        target: ctx.target,
        transport: ctx.transport,
        state: ctx.auth,
        vars,
    };
    let header = match auth_spec {
        AuthSpec::Wss(w) => Some(
            auth::wss::header(w, &mut auth_ctx)
                .await
                .map_err(|e| Failure::new(FailureKind::Auth, "wss", e.to_string()))?,
        ),
        _ => None,
    };
    let mut request = soap_request(
        spec,
        ctx.target,
        ctx.catalog,
        auth_ctx.vars,
        header.as_deref(),
    )?;
    if !matches!(auth_spec, AuthSpec::Wss(_)) {
        auth::authorize(auth_spec, &mut auth_ctx, &mut request)
            .await
            .map_err(|e| Failure::new(FailureKind::Auth, auth_spec.name(), e.to_string()))?;
    }
    let resp = ctx.transport.send(&request).await.map_err(|e| {
        Failure::new(
            FailureKind::Transport,
            format!("POST {}", request.url),
            e.to_string(),
        )
    })?;
    let policy = &ctx.opts.policy;
    policy.redactor.collect_personal(&resp.body);
    let op = ctx.catalog.soap(&spec.service, &spec.operation);
    if let Some(found) = op {
        ctx.exercised.push(found.id.clone());
    }
    if let Some(recorder) = &policy.recorder {
        let operation = op.map(|o| o.id.clone()).unwrap_or_else(|| {
            format!("(not in the catalogue) {}.{}", spec.service, spec.operation)
        });
        recorder.record(
            ctx.scenario,
            &ctx.step_key,
            &operation,
            &request,
            &resp,
            &policy.redactor,
        );
    }
    Ok((request, resp, op))
}

/// The SOAP call as an HTTP request: the envelope of `spec`'s operation
/// with `header` (a WS-Security header) in its Header.
pub(crate) fn soap_request(
    spec: &SoapSpec,
    target: &Target,
    catalog: &Catalog,
    vars: &Vars,
    header: Option<&str>,
) -> Result<HttpRequest, Failure> {
    let template_err = |what: &str, e: crate::scenario::TemplateError| {
        Failure::new(FailureKind::Template, what.to_owned(), e.to_string())
    };
    let namespace = match &spec.namespace {
        Some(t) => t.render(vars).map_err(|e| template_err("namespace", e))?,
        None => soap::target_namespace(target.profile)
            .ok_or_else(|| {
                Failure::new(
                    FailureKind::Setup,
                    "soap",
                    format!("the {} profile has no SOAP services", target.profile),
                )
            })?
            .to_owned(),
    };
    let mut args = Vec::with_capacity(spec.args.len());
    for (name, value) in &spec.args {
        let v = render_json(value, vars).map_err(|e| template_err(&format!("args.{name}"), e))?;
        args.push((name.clone(), v));
    }
    let ordered = soap::ordered_args(catalog, &spec.service, &spec.operation, &args);
    let mut headers = render_params(&spec.headers, vars).map_err(|e| template_err("headers", e))?;
    let body = soap::envelope(&namespace, &spec.operation, &ordered, header);
    for (name, value) in [
        ("Content-Type", "text/xml; charset=UTF-8"),
        ("SOAPAction", "\"\""),
    ] {
        if !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(name)) {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    Ok(HttpRequest {
        method: "POST".into(),
        url: target.url(&format!("/ws/{}", spec.service)),
        headers,
        body: Some(Bytes::from(body)),
    })
}

/// Renders the request's templates into a sendable request; returns it
/// with the rendered path (for coverage).
pub(crate) fn build(
    spec: &RequestSpec,
    target: &Target,
    vars: &Vars,
) -> Result<(HttpRequest, String), Failure> {
    let template_err = |what: &str, e: crate::scenario::TemplateError| {
        Failure::new(FailureKind::Template, what.to_owned(), e.to_string())
    };
    let path = spec
        .path
        .render(vars)
        .map_err(|e| template_err("path", e))?;
    let mut url = target.url(&path);
    let query = render_params(&spec.query, vars).map_err(|e| template_err("query", e))?;
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&encode_pairs(&query));
    }
    let mut headers = render_params(&spec.headers, vars).map_err(|e| template_err("headers", e))?;
    let has = |headers: &[(String, String)], n: &str| {
        headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n))
    };
    let body = match &spec.body {
        None => None,
        Some(Body::Json(v)) => {
            let v = render_json(v, vars).map_err(|e| template_err("json", e))?;
            if !has(&headers, "content-type") {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(Bytes::from(serde_json::to_vec(&v).unwrap_or_default()))
        }
        Some(Body::Form(p)) => {
            let pairs = render_params(p, vars).map_err(|e| template_err("form", e))?;
            if !has(&headers, "content-type") {
                headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
            Some(Bytes::from(encode_pairs(&pairs)))
        }
        Some(Body::Raw(t)) => Some(Bytes::from(
            t.render(vars).map_err(|e| template_err("body", e))?,
        )),
    };
    Ok((
        HttpRequest {
            method: spec.method.clone(),
            url,
            headers,
            body,
        },
        path,
    ))
}

fn render_params(
    p: &Params,
    vars: &Vars,
) -> Result<Vec<(String, String)>, crate::scenario::TemplateError> {
    p.0.iter()
        .map(|(k, t)| Ok((k.clone(), t.render(vars)?)))
        .collect()
}

/// `a=1&b=x%20y`, in order.
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn capture_all(
    captures: &indexmap::IndexMap<String, Capture>,
    resp: &HttpResponse,
    xml: &XmlBody<'_>,
    vars: &mut Vars,
) -> Result<(), Failure> {
    for (name, cap) in captures {
        let fail = |m: String| Failure::new(FailureKind::Capture, name.clone(), m);
        let value = match &cap.source {
            CaptureSource::Json(path) => {
                let nodes = crate::check::select(resp, path).map_err(|f| fail(f.message))?;
                match nodes.as_slice() {
                    [v] => v.clone().into_owned(),
                    [] => return Err(fail(format!("{} matched nothing", path.source))),
                    many => {
                        return Err(fail(format!(
                            "{} matched {} values; capture needs exactly one",
                            path.source,
                            many.len()
                        )))
                    }
                }
            }
            CaptureSource::Xml(path) => {
                let doc = xml.doc().map_err(|e| fail(e.to_owned()))?;
                let tns = vars.get("soap_namespace").map(display).unwrap_or_default();
                match path.select(doc, &tns).as_slice() {
                    [n] => Value::String(if path.selects_elements() {
                        element_text(*n)
                    } else {
                        path.values(doc, &tns)
                            .into_iter()
                            .next()
                            .unwrap_or_default()
                    }),
                    [] => return Err(fail(format!("{} matched nothing", path.source))),
                    many => {
                        return Err(fail(format!(
                            "{} matched {} values; capture needs exactly one",
                            path.source,
                            many.len()
                        )))
                    }
                }
            }
            CaptureSource::Header(h) => Value::String(
                resp.header(h)
                    .ok_or_else(|| fail(format!("the response has no `{h}` header")))?
                    .to_owned(),
            ),
            CaptureSource::Body => Value::String(resp.text().into_owned()),
            CaptureSource::Status => Value::from(resp.status),
        };
        let value = match &cap.regex {
            None => value,
            Some(re) => {
                let text = display(&value);
                let caps = re.0.captures(&text).ok_or_else(|| {
                    fail(format!(
                        "/{}/ does not match {:?}",
                        re.0.as_str(),
                        excerpt(&text, 200)
                    ))
                })?;
                let m = caps
                    .get(1)
                    .or_else(|| caps.get(0))
                    .map_or("", |m| m.as_str());
                Value::String(m.to_owned())
            }
        };
        vars.set(name.clone(), value);
    }
    Ok(())
}

/// [`excerpt`] of a body read as UTF-8 (lossily), decoding no more of it
/// than the excerpt can show: `max` characters take at most `4 * max`
/// bytes, and one more character decides the ellipsis.
fn excerpt_bytes(body: &[u8], max: usize) -> String {
    // A head cut inside a character ends in a replacement character; the
    // `max` characters kept come before the cut.
    excerpt(
        &crate::transport::lossy(&body[..body.len().min(4 * max + 4)]),
        max,
    )
}

fn excerpt(s: &str, max: usize) -> String {
    // Only the first `max` characters are looked at: bodies can be large.
    // A text of at most `max` bytes has at most `max` characters.
    if s.len() <= max {
        return s.to_owned();
    }
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

/// The response with secrets (and collected personal data) scrubbed,
/// for snapshots.
fn scrubbed(resp: &HttpResponse, redactor: &Redactor) -> HttpResponse {
    // JSON is scrubbed on the step's own parse of it, and the snapshot
    // reads the scrubbed tree: the body is parsed once.
    if let Ok(doc) = resp.json() {
        let mut doc = doc.into_owned();
        redactor.scrub_json(&mut doc);
        return resp.with_json(doc);
    }
    let mut shown = resp.clone();
    shown.body = Bytes::from(redactor.scrub_body(&resp.text()));
    if shown.body.is_empty() != resp.body.is_empty() {
        shown.body = resp.body.clone();
    }
    shown
}

/// What a report shows of an exchange: bounded, with secrets redacted.
pub(crate) fn summarize(req: &HttpRequest, resp: &HttpResponse) -> Exchange {
    Exchange {
        method: req.method.clone(),
        url: redact_text(&req.url),
        request_headers: req
            .headers
            .iter()
            .map(|(n, v)| {
                let v = if crate::redact::is_credential_header(n) {
                    crate::redact::SECRET.to_owned()
                } else {
                    v.clone()
                };
                (n.clone(), v)
            })
            .collect(),
        request_body: req
            .body
            .as_ref()
            .map(|b| redact_text(&excerpt_bytes(b, 2000))),
        status: Some(resp.status),
        content_type: resp.header("content-type").map(str::to_owned),
        response_body: Some(redact_text(&excerpt_bytes(&resp.body, 4000))),
        elapsed: resp.elapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::FailureKind;
    use crate::snapshot::SnapshotMode;

    proptest::proptest! {
        /// An excerpt of a body's head is the excerpt of the whole body,
        /// whatever characters (or invalid bytes) meet the cut.
        #[test]
        fn excerpts_of_a_body_need_only_its_head(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b"a".to_vec()),
                    proptest::strategy::Just("\u{e9}".as_bytes().to_vec()),
                    proptest::strategy::Just("\u{20ac}".as_bytes().to_vec()),
                    proptest::strategy::Just("\u{1f600}".as_bytes().to_vec()),
                    proptest::strategy::Just(vec![0xf0, 0x9f]),
                    proptest::strategy::Just(vec![0xff]),
                ],
                0..40,
            ),
            max in 1usize..8,
        ) {
            let body: Vec<u8> = pieces.concat();
            proptest::prop_assert_eq!(
                excerpt_bytes(&body, max),
                excerpt(&String::from_utf8_lossy(&body), max)
            );
        }
    }
    use emr_catalog::ProfileId;
    use emr_mock::{MockConfig, MockServer};
    use std::path::Path;

    fn opts(dir: &Path, mode: SnapshotMode) -> RunOptions {
        RunOptions {
            snapshots: Snapshots {
                dir: dir.to_owned(),
                mode,
                redact_personal: false,
            },
            insecure: false,
            run_id: "t".into(),
            policy: RunPolicy::default(),
            fuzz: Default::default(),
        }
    }

    async fn run_yaml(profile: ProfileId, yaml: &str) -> ScenarioOutcome {
        let dir = tempfile::tempdir().unwrap();
        let server = MockServer::start_local(MockConfig::new(profile))
            .await
            .unwrap();
        let target = Target::new(
            TargetKind::Mock,
            profile,
            &server.base_url(),
            emr_mock::credentials::of(server.state()),
        );
        let s = crate::scenario::parse(Path::new("t.yaml"), "t".into(), yaml)
            .unwrap()
            .remove(0);
        run(&s, &target, &opts(dir.path(), SnapshotMode::Update)).await
    }

    #[tokio::test]
    async fn captures_feed_later_requests_and_expectations() {
        let o = run_yaml(
            ProfileId::Oscar,
            r#"
name: captures
profile: oscar
vars: {limit: 1}
steps:
  - request: {path: /__admin/credentials}
    capture:
      user: {json: '$.users[0].username'}
      secno: {json: '$.users[0].security_no'}
      ctype: {header: Content-Type, regex: '^([a-z]+)/'}
  - request: {path: /ws/rs/status/checkIfAuthed, query: {who: '{{user}}', n: '{{secno}}', t: '{{ctype}}'}}
    expect: {status: 401}
  - request: {path: /__admin/requests, query: {limit: '{{limit}}'}}
    expect:
      json:
        $.requests[0].query: 'who={{user}}&n={{secno}}&t=application'
        $.requests[0].status: 401
"#,
        )
        .await;
        assert_eq!(o.status, Status::Passed, "{:#?}", o.all_failures());
        assert_eq!(o.exercised, vec!["GET /ws/rs/status/checkIfAuthed"]);
    }

    #[tokio::test]
    async fn a_query_written_into_the_path_still_names_the_operation() {
        let o = run_yaml(
            ProfileId::Oscar,
            r#"
name: inline query
profile: oscar
steps:
  - request: {path: '/ws/rs/status/checkIfAuthed?q=a+b'}
    expect: {status: 401}
"#,
        )
        .await;
        assert_eq!(o.status, Status::Passed, "{:#?}", o.all_failures());
        assert_eq!(o.exercised, vec!["GET /ws/rs/status/checkIfAuthed"]);
    }

    #[tokio::test]
    async fn cleanup_runs_after_a_failure_and_reports_what_it_leaves() {
        let o = run_yaml(
            ProfileId::Oscar,
            r#"
name: cleanup
profile: oscar
steps:
  - name: create
    request: {method: POST, path: /ws/rs/demographics, json: {lastName: '{{synthetic.last_name}}'}}
    capture: {status: {status: true}}
  - name: fails
    request: {path: /ws/rs/status/checkIfAuthed}
    expect: {status: 200}
cleanup:
  - name: deactivate
    request: {method: PUT, path: /ws/rs/demographics}
    leaves: 'demographic {{synthetic.last_name}} (status {{status}}), deactivated'
"#,
        )
        .await;
        assert_eq!(o.status, Status::Failed);
        assert_eq!(o.cleanup.len(), 1);
        assert_eq!(
            o.cleanup[0].status,
            Status::Passed,
            "cleanup ran after the failure"
        );
        assert_eq!(
            o.left_behind,
            ["demographic ZZTEST-t (status 401), deactivated"]
        );
    }

    #[tokio::test]
    async fn soap_expectations_fail_with_their_own_kinds() {
        let one = |step: &'static str| async move {
            let yaml = format!("name: x\nprofile: oscar\nsteps:\n{step}");
            run_yaml(ProfileId::Oscar, &yaml).await.steps[0]
                .failures
                .clone()
        };
        let f = one("  - soap: {service: SystemInfoService, operation: isAlive}\n    expect: {fault: {code: 'soap:Client'}}\n").await;
        assert_eq!(f[0].kind, FailureKind::Fault);
        assert!(f[0].message.contains("has no soap:Fault"), "{:?}", f);
        let f = one("  - soap: {service: ProviderService, operation: getLoggedInProviderTransfer}\n    expect: {fault: {code: 'wss4j:SecurityError', string: nope}}\n").await;
        assert_eq!(f[0].message, "expected wss4j:SecurityError, got wsse:InvalidSecurity ({http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}InvalidSecurity)");
        assert_eq!(
            (f[1].kind, f[1].subject.as_str()),
            (FailureKind::Fault, "fault string")
        );
        let f = one("  - soap: {service: SystemInfoService, operation: isAlive}\n    expect: {xml: {return: dead}}\n").await;
        assert_eq!(
            (f[0].kind, f[0].subject.as_str()),
            (FailureKind::Xml, "return")
        );
        assert_eq!(f[0].message, "expected \"dead\", got \"alive\"");
        let f = one("  - request: {path: /__admin/health}\n    expect: {xml: {x: '1'}}\n").await;
        assert_eq!(f[0].kind, FailureKind::Xml);
        assert!(f[0].message.contains("not XML"), "{:?}", f);
        let f = one("  - request: {path: /ws/rs/status/checkIfAuthed}\n    auth: wss\n").await;
        assert_eq!(f[0].kind, FailureKind::Auth);
        assert!(f[0].message.contains("use it on `soap:` steps"), "{:?}", f);
        let f = one("  - soap: {service: ProviderService, operation: getLoggedInProviderTransfer}\n    auth: {wss: {login: {username: oscardoc, password: wrong}}}\n").await;
        assert_eq!(f[0].kind, FailureKind::Auth);
        assert!(
            f[0].message.contains(
                "LoginService.login2 refused the login (soap:Server: Invalid Username/Password)"
            ),
            "{:?}",
            f
        );
    }

    #[tokio::test]
    async fn a_failed_step_skips_the_rest() {
        let o = run_yaml(
            ProfileId::Juno,
            "name: x\nprofile: juno\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n    expect: {status: 200}\n  - request: {path: /__admin/health}\n",
        )
        .await;
        assert_eq!(o.status, Status::Failed);
        assert_eq!(o.steps[1].status, Status::Skipped);
        assert_eq!(o.steps[0].failures[0].kind, FailureKind::Status);
        let x = o.steps[0].exchange.as_ref().unwrap();
        assert_eq!(x.status, Some(401));
        assert_eq!(
            x.response_body.as_deref(),
            Some("<error>Not authorized</error>")
        );
    }

    #[tokio::test]
    async fn capture_failures_name_the_capture() {
        let o = run_yaml(
            ProfileId::Oscar,
            "name: x\nprofile: oscar\nsteps:\n  - request: {path: /__admin/health}\n    capture: {nope: {json: $.missing}}\n",
        )
        .await;
        let f = &o.steps[0].failures[0];
        assert_eq!((f.kind, f.subject.as_str()), (FailureKind::Capture, "nope"));
        assert_eq!(f.message, "$.missing matched nothing");
    }

    #[tokio::test]
    async fn poll_retries_until_the_condition_holds() {
        // The journal holds more entries with every poll request, so
        // `count` eventually reaches 3.
        let o = run_yaml(
            ProfileId::Oscar,
            r#"
name: poll
profile: oscar
steps:
  - request: {path: /ws/rs/status/checkIfAuthed}
    poll:
      until: {status: 401}
      interval_ms: 1
  - request: {path: /__admin/requests}
    poll:
      until: {json: {'$.requests': {length: 1}}}
      interval_ms: 1
      max_attempts: 3
  - request: {path: /ws/rs/status/checkIfAuthed}
    repeat: 3
    expect: {status: 401}
  - request: {path: /__admin/requests}
    expect: {json: {'$.requests': {length: 4}}}
"#,
        )
        .await;
        assert_eq!(o.status, Status::Passed, "{:#?}", o.all_failures());
        assert_eq!(o.steps[2].attempts, 3);

        let o = run_yaml(
            ProfileId::Oscar,
            "name: p\nprofile: oscar\nsteps:\n  - request: {path: /__admin/health}\n    poll: {until: {status: 204}, interval_ms: 1, max_attempts: 2}\n",
        )
        .await;
        assert_eq!(o.steps[0].attempts, 2);
        assert!(o.steps[0].failures[0].message.contains("after 2 attempts"));
    }

    #[tokio::test]
    async fn declared_coverage_must_be_exercised() {
        let o = run_yaml(
            ProfileId::Oscar,
            "name: x\nprofile: oscar\ncovers: [GET /ws/rs/demographics/quickSearch]\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n",
        )
        .await;
        assert_eq!(o.status, Status::Failed);
        assert_eq!(o.failures[0].kind, FailureKind::Coverage);
    }

    #[tokio::test]
    async fn unreachable_targets_are_transport_failures() {
        let s = crate::scenario::parse(
            Path::new("t.yaml"),
            "t".into(),
            "name: x\nprofile: oscar\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n",
        )
        .unwrap()
        .remove(0);
        let mut target = Target::new(
            TargetKind::Live,
            ProfileId::Oscar,
            "http://127.0.0.1:9",
            Value::Null,
        );
        target.timeout = Duration::from_secs(5);
        let dir = tempfile::tempdir().unwrap();
        let o = run(&s, &target, &opts(dir.path(), SnapshotMode::CompareOnly)).await;
        assert_eq!(o.steps[0].failures[0].kind, FailureKind::Transport);
        assert!(
            o.steps[0].failures[0].message.contains("could not connect"),
            "{:?}",
            o.steps[0].failures
        );
    }

    #[tokio::test]
    async fn admin_scenarios_are_skipped_on_live_targets() {
        let s = crate::scenario::parse(
            Path::new("t.yaml"),
            "t".into(),
            "name: x\nprofile: oscar\nsteps:\n  - request: {path: /__admin/health}\n",
        )
        .unwrap()
        .remove(0);
        let target = Target::new(
            TargetKind::Live,
            ProfileId::Oscar,
            "http://127.0.0.1:9",
            Value::Null,
        );
        let dir = tempfile::tempdir().unwrap();
        let o = run(&s, &target, &opts(dir.path(), SnapshotMode::CompareOnly)).await;
        assert_eq!(o.status, Status::Skipped);
    }

    #[tokio::test]
    async fn snapshots_record_then_catch_changes() {
        let dir = tempfile::tempdir().unwrap();
        let server = MockServer::start_local(MockConfig::new(ProfileId::Oscar))
            .await
            .unwrap();
        let target = Target::new(
            TargetKind::Mock,
            ProfileId::Oscar,
            &server.base_url(),
            Value::Null,
        );
        let yaml = |suffix: &str| {
            format!("name: x\nprofile: oscar\nsteps:\n  - request: {{path: /ws/rs/status/checkIfAuthed{suffix}}}\n    snapshot: journal\n")
        };
        let s = |q: &str| {
            crate::scenario::parse(Path::new("t.yaml"), "t".into(), &yaml(q))
                .unwrap()
                .remove(0)
        };
        let o = run(
            &s(""),
            &target,
            &opts(dir.path(), SnapshotMode::CompareOnly),
        )
        .await;
        assert!(
            o.steps[0].failures[0].message.contains("no snapshot"),
            "{:?}",
            o.steps[0].failures
        );
        let o = run(&s(""), &target, &opts(dir.path(), SnapshotMode::Update)).await;
        assert_eq!(o.status, Status::Passed);
        let o = run(&s(""), &target, &opts(dir.path(), SnapshotMode::Compare)).await;
        assert_eq!(o.status, Status::Passed);
        let o = run(
            &s(".json"),
            &target,
            &opts(dir.path(), SnapshotMode::Compare),
        )
        .await;
        assert_eq!(
            o.status,
            Status::Passed,
            "the .json extension does not change the answer"
        );
        let o = run(
            &s("/nothing"),
            &target,
            &opts(dir.path(), SnapshotMode::Compare),
        )
        .await;
        let f = &o.steps[0].failures[0];
        assert_eq!(f.kind, FailureKind::Snapshot);
        let diff = f.diff.as_deref().unwrap();
        assert!(
            diff.contains("-HTTP 401 text/xml") && diff.contains("+HTTP 404"),
            "{diff}"
        );
        assert!(dir.path().join("t__journal.snap.new").exists());
    }
}
