//! The live-target side of the command: `run`'s safety and reporting
//! flags, target files, `diff` and `auth`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use emr_catalog::{Catalog, ProfileId};
use emr_harness::diff::{self, Recording};
use emr_harness::expected::ExpectedResults;
use emr_harness::live::interactive;
use emr_harness::live::loopback::CallbackReceiver;
use emr_harness::live::store::{StoredTokens, TokenStore};
use emr_harness::live::target_file::{LiveTarget, TargetFile};
use emr_harness::live::tokens;
use emr_harness::policy;
use emr_harness::redact::Redactor;
use emr_harness::report::extras::TargetInfo;
use emr_harness::runner::RunOptions;
use emr_harness::scenario::Scenario;
use emr_harness::shard::Shard;
use emr_harness::suite::SuiteOutcome;
use emr_harness::target::Target;
use emr_harness::transport::Transport;

use crate::cli::UsageError;
use crate::exit;

/// `run`'s flags for live targets, certification and upgrade comparison.
#[derive(Debug, Args, Default)]
pub struct LiveRunArgs {
    /// Send only reads (HTTP GET/HEAD, SOAP reads); write steps are
    /// skipped and reported as such.
    #[arg(long, conflicts_with = "allow_writes")]
    pub read_only: bool,
    /// Let write steps reach a live target (they need marked synthetic
    /// data and a `cleanup:` block).
    #[arg(long)]
    pub allow_writes: bool,
    /// Do not verify TLS certificates (prints a warning).
    #[arg(long)]
    pub insecure: bool,
    /// Record every response into DIR for `emr-conformance diff`.
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// Compare this run's recording with the recording in DIR and add the
    /// drift to the reports; breaking drift fails the run.
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Known, accepted deviations: failures listed there do not fail the
    /// run.
    #[arg(long, value_name = "FILE")]
    pub expected: Option<PathBuf>,
    /// Run shard I of N (1-based): every N-th scenario in id order.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Requests per second to a live target (default: the target file's,
    /// else 5).
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<f64>,
    /// Seconds to wait for each response from a live target (default 30).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
}

/// The target of a run, resolved.
pub struct Resolved {
    pub label: String,
    pub live: Option<Target>,
    pub variant: Option<String>,
    pub read_only: bool,
    pub allow_writes: bool,
    pub redactor: Arc<Redactor>,
}

/// `mock`, a target file, or a URL with one `--profile`.
pub fn resolve_target(
    target: &str,
    profiles: &[ProfileId],
    args: &LiveRunArgs,
    err: &mut impl Write,
) -> Result<Resolved, UsageError> {
    if target == "mock" {
        if args.insecure {
            let _ = writeln!(
                err,
                "warning: --insecure has no effect on the embedded mock"
            );
        }
        return Ok(Resolved {
            label: "the embedded mock".into(),
            live: None,
            variant: None,
            read_only: args.read_only,
            allow_writes: args.allow_writes,
            redactor: Arc::new(Redactor::new(false)),
        });
    }
    let path = Path::new(target);
    let mut live = if path.is_file() || target.ends_with(".yaml") || target.ends_with(".yml") {
        let t = TargetFile::load(path).map_err(|e| UsageError(e.to_string()))?;
        if let Some(p) = profiles.iter().find(|p| **p != t.profile) {
            return Err(UsageError(format!(
                "--profile {p} does not match the target file's profile {}",
                t.profile
            )));
        }
        t
    } else {
        let [profile] = profiles else {
            return Err(UsageError(
                "--target URL needs exactly one --profile (the kind of server it is)".into(),
            ));
        };
        LiveTarget::from_url(target, *profile).map_err(|e| {
            UsageError(format!(
                "--target `{target}` is not `mock`, a target file or a URL: {e}"
            ))
        })?
    };
    if let Some(r) = args.rate_limit {
        if !(r.is_finite() && r > 0.0) {
            return Err(UsageError("--rate-limit must be a positive number".into()));
        }
        live.rate_limit = Some(r);
    }
    if let Some(t) = args.timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(UsageError(
                "--timeout must be a positive number of seconds".into(),
            ));
        }
        live.timeout = Duration::from_secs_f64(t);
    }
    if live.read_only && args.allow_writes {
        return Err(UsageError(format!(
            "the target `{}` is read-only (read_only: true in its file); --allow-writes cannot override it",
            live.name
        )));
    }
    if args.insecure || live.insecure {
        let _ = writeln!(
            err,
            "warning: TLS certificates of {} are NOT verified ({}); anyone on the network path can read and change this run's traffic",
            live.url,
            if args.insecure { "--insecure" } else { "tls.insecure in the target file" }
        );
    }
    let mut credentials = live
        .credentials_document(&|name| std::env::var(name).ok())
        .map_err(|e| UsageError(format!("target `{}`: {e}", live.name)))?;
    // Tokens stored by `emr-conformance auth` (the environment wins).
    if let Ok(store) = TokenStore::user() {
        match store.load(&live.store_key()) {
            Ok(Some(stored)) => {
                for (driver, t) in stored.tokens {
                    tokens::merge(&mut credentials, &driver, t);
                }
            }
            Ok(None) => {}
            Err(e) => return Err(UsageError(e.to_string())),
        }
    }
    let redactor = Arc::new(Redactor::new(live.redact_personal));
    redactor.register_credentials(&credentials);
    let target = live
        .to_target(credentials)
        .map_err(|e| UsageError(format!("target `{}`: {e}", live.name)))?;
    Ok(Resolved {
        label: if live.name.is_empty() {
            live.url.clone()
        } else {
            format!("{} ({})", live.name, live.url)
        },
        live: Some(target),
        variant: live.variant.clone(),
        read_only: args.read_only || live.read_only,
        allow_writes: args.allow_writes,
        redactor,
    })
}

/// Refuses a live run that would send writes without `--allow-writes`
/// (or `--read-only` to skip them), naming the scenarios that write.
pub fn check_writes(scenarios: &[Scenario], resolved: &Resolved) -> Result<(), UsageError> {
    if resolved.live.is_none() || resolved.read_only {
        return Ok(());
    }
    let writing: Vec<String> = scenarios
        .iter()
        .filter_map(|s| {
            let c = Catalog::of(s.profile);
            policy::write_steps(s, &c)
                .first()
                .map(|st| format!("{} (step `{}`)", s.id, st.name))
        })
        .collect();
    if writing.is_empty() || resolved.allow_writes {
        return Ok(());
    }
    let shown: Vec<&str> = writing.iter().take(10).map(String::as_str).collect();
    Err(UsageError(format!(
        "refusing to send writes to the live target {}: {} scenario(s) write: {}{}. Pass --allow-writes to run them (with synthetic data and cleanup), or --read-only to skip their writes",
        resolved.label,
        writing.len(),
        shown.join(", "),
        if writing.len() > shown.len() { ", ..." } else { "" }
    )))
}

/// Where the run's recording goes: `--snapshot-dir`, or beside the
/// reports when only `--baseline` is given.
pub fn recording_dir(args: &LiveRunArgs, report_dir: &Path) -> Option<PathBuf> {
    args.snapshot_dir
        .clone()
        .or_else(|| args.baseline.as_ref().map(|_| report_dir.join("recording")))
}

/// After the suite: expected results, the recording, the drift against a
/// baseline, the target's description. Returns whether breaking drift
/// fails the run.
pub fn after_run(
    suite: &mut SuiteOutcome,
    opts: &RunOptions,
    resolved: &Resolved,
    args: &LiveRunArgs,
    recording_dir: Option<&Path>,
    expected: Option<(ExpectedResults, String)>,
    err: &mut impl Write,
) -> Result<bool, UsageError> {
    suite.extras.target = Some(TargetInfo {
        label: resolved.label.clone(),
        live: resolved.live.is_some(),
        variant: resolved.variant.clone(),
        read_only: resolved.read_only,
        allow_writes: args.allow_writes,
        personal_data_redacted: resolved.redactor.redact_personal,
    });
    if let Some((file, name)) = expected {
        suite.extras.expected = Some(file.apply(&mut suite.outcomes, &name));
    }
    let mut breaking = false;
    if let (Some(dir), Some(recorder)) = (recording_dir, &opts.policy.recorder) {
        let recording = recorder.recording(&resolved.label, resolved.variant.clone());
        if let Err(e) = recording.write(dir) {
            let _ = writeln!(err, "error: cannot write the recording: {e}");
            return Ok(true);
        }
        suite.extras.recording = Some(dir.display().to_string());
        if let Some(base) = &args.baseline {
            let before = Recording::read(base).map_err(|e| UsageError(e.to_string()))?;
            let d = diff::compare(
                &before,
                &recording,
                &base.display().to_string(),
                &dir.display().to_string(),
            )
            .map_err(|e| UsageError(e.to_string()))?;
            breaking = d.has_breaking();
            suite.extras.drift = Some(d);
        }
    }
    Ok(breaking)
}

/// `diff`'s arguments.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The recording before (a `--snapshot-dir` directory).
    pub before: PathBuf,
    /// The recording after.
    pub after: PathBuf,
    /// Where drift.json and drift.html go.
    #[arg(long, value_name = "DIR", default_value = "target/conformance")]
    pub report_dir: PathBuf,
}

/// `diff BEFORE AFTER`: 0 without breaking drift, 1 with, 2 when a
/// recording cannot be read or compared.
pub fn diff(args: DiffArgs, out: &mut impl Write, err: &mut impl Write) -> Result<u8, UsageError> {
    let read = |p: &Path| Recording::read(p).map_err(|e| UsageError(e.to_string()));
    let (before, after) = (read(&args.before)?, read(&args.after)?);
    let d = diff::compare(
        &before,
        &after,
        &args.before.display().to_string(),
        &args.after.display().to_string(),
    )
    .map_err(|e| UsageError(e.to_string()))?;
    let color = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = out.write_all(diff::render::console(&d, color).as_bytes());
    let files = [
        ("drift.json", diff::render::json(&d)),
        ("drift.html", diff::render::html_page(&d)),
    ];
    if let Err(e) = std::fs::create_dir_all(&args.report_dir) {
        let _ = writeln!(
            err,
            "error: cannot create {}: {e}",
            args.report_dir.display()
        );
        return Ok(exit::FAILED);
    }
    let mut written = Vec::new();
    for (name, text) in files {
        let path = args.report_dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            let _ = writeln!(err, "error: cannot write {}: {e}", path.display());
            return Ok(exit::FAILED);
        }
        written.push(path.display().to_string());
    }
    let _ = writeln!(out, "     Reports {}", written.join(", "));
    Ok(if d.has_breaking() {
        exit::FAILED
    } else {
        exit::PASSED
    })
}

/// `auth`'s arguments.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// A target file, or a URL with --profile.
    #[arg(long)]
    pub target: String,
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// The interactive flow to run (default: the profile's).
    #[arg(long)]
    pub driver: Option<String>,
    /// Loopback port of the redirect URI (default: the target file's
    /// `auth.redirect_port`, else a free port).
    #[arg(long)]
    pub port: Option<u16>,
    /// Seconds to wait for the browser's callback.
    #[arg(long, default_value_t = 300)]
    pub wait: u64,
    /// Show what is stored for the target (secrets masked) and stop.
    #[arg(long, conflicts_with = "forget")]
    pub show: bool,
    /// Delete the stored tokens of the target and stop.
    #[arg(long)]
    pub forget: bool,
}

/// `auth --target T`: obtains tokens interactively and stores them
/// (owner-only) for later runs against T.
pub async fn auth(
    args: AuthArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<u8, UsageError> {
    let profiles: Vec<ProfileId> = args
        .profiles
        .iter()
        .map(|p| {
            p.parse()
                .map_err(|e: emr_catalog::UnknownProfile| UsageError(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let path = Path::new(&args.target);
    let live = if path.is_file() || args.target.ends_with(".yaml") || args.target.ends_with(".yml")
    {
        TargetFile::load(path).map_err(|e| UsageError(e.to_string()))?
    } else {
        let [profile] = profiles.as_slice() else {
            return Err(UsageError(
                "--target URL needs exactly one --profile".into(),
            ));
        };
        LiveTarget::from_url(&args.target, *profile).map_err(|e| UsageError(e.to_string()))?
    };
    let store = TokenStore::user().map_err(|e| UsageError(e.to_string()))?;
    let key = live.store_key();
    if args.forget {
        let gone = store.forget(&key).map_err(|e| UsageError(e.to_string()))?;
        let _ = writeln!(
            out,
            "{} {}",
            if gone {
                "forgot the tokens stored at"
            } else {
                "nothing stored at"
            },
            store.path(&key).display()
        );
        return Ok(exit::PASSED);
    }
    if args.show {
        match store.load(&key).map_err(|e| UsageError(e.to_string()))? {
            None => {
                let _ = writeln!(
                    out,
                    "nothing stored for {key} ({})",
                    store.path(&key).display()
                );
            }
            Some(s) => {
                let _ = writeln!(out, "{} ({}), saved {}", s.target, s.profile, s.saved_at);
                for (driver, t) in &s.tokens {
                    let redactor = Redactor::new(false);
                    redactor.register_credentials(&serde_json::json!({ "tokens": { driver: t } }));
                    let _ = writeln!(out, "  {driver}: {}", redactor.scrub(&t.to_string()));
                }
            }
        }
        return Ok(exit::PASSED);
    }
    let flow = interactive::flow_for(
        interactive::flows(),
        live.profile,
        args.driver.as_deref().or(live.auth.driver.as_deref()),
    )
    .map_err(UsageError)?;
    let credentials = live
        .credentials_document(&|name| std::env::var(name).ok())
        .map_err(|e| UsageError(e.to_string()))?;
    let target = live
        .to_target(credentials)
        .map_err(|e| UsageError(e.to_string()))?;
    let redactor = Arc::new(Redactor::new(true));
    let transport =
        Transport::for_target(&target, false, redactor).map_err(|e| UsageError(e.to_string()))?;
    let port = args.port.or(live.auth.redirect_port).unwrap_or(0);
    let receiver = CallbackReceiver::bind(port)
        .await
        .map_err(|e| UsageError(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let _ = writeln!(out, "Redirect URI: {}", receiver.redirect_uri());
    let tokens = interactive::authorize(
        flow.as_ref(),
        &target,
        &transport,
        receiver,
        Duration::from_secs(args.wait),
        |url| {
            println!("Open this URL in a browser and approve access:\n\n  {url}\n");
        },
    )
    .await;
    let tokens = match tokens {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Ok(exit::FAILED);
        }
    };
    let stored = StoredTokens {
        target: live.name.clone(),
        profile: live.profile.to_string(),
        saved_at: chrono::Utc::now().to_rfc3339(),
        tokens: [(flow.driver().to_owned(), tokens)].into_iter().collect(),
    };
    let path = store
        .save(&key, &stored)
        .map_err(|e| UsageError(e.to_string()))?;
    let _ = writeln!(
        out,
        "Stored the {} tokens for {} in {} (readable by you only); `run --target {}` uses them.",
        flow.driver(),
        live.name,
        path.display(),
        args.target
    );
    Ok(exit::PASSED)
}
