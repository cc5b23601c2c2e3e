//! Command-line interface: `run`, `mock`, `list`.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use emr_catalog::{Catalog, ProfileId};
use emr_harness::report::{self, console};
use emr_harness::runner::RunOptions;
use emr_harness::scenario::{load_all, Scenario};
use emr_harness::snapshot::{SnapshotMode, Snapshots};
use emr_harness::suite::{self, Event, Provisioner};
use emr_mock::{MockConfig, MockServer};

use crate::exit;
use crate::provision::{EmbeddedMock, Live};

#[derive(Debug, Parser)]
#[command(
    name = "emr-conformance",
    version,
    about = "Conformance harness and stateful mock for OSCAR EMR and OpenEMR-family APIs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against the embedded mock or a live server, print a
    /// line per scenario and a summary, and write JUnit XML and JSON.
    Run(Box<RunArgs>),
    /// Serve the mock until interrupted. The first line on stdout is
    /// `listening on http://ADDR`.
    Mock(MockArgs),
    /// List the scenarios, their tags and the operations each covers.
    List(ListArgs),
    /// Compare two recordings (`run --snapshot-dir`) by shape; exits 1 on
    /// breaking drift.
    Diff(crate::live::DiffArgs),
    /// Authorize interactively against a live target and store the tokens
    /// for later runs.
    Auth(crate::live::AuthArgs),
    /// Measure the mock's authenticated reads over loopback against a bare
    /// handler returning the same bytes (requests/s, p50/p99, ratio).
    Bench(crate::bench::BenchArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// `mock` (the embedded mock, one fresh server per scenario), a target
    /// file (`targets/staging.yaml`), or the base URL of a live server
    /// (then give exactly one --profile).
    #[arg(long, default_value = "mock")]
    pub target: String,
    /// Only scenarios of these profiles: oscar, open-o, juno, openemr, emedpractice.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Scenario files or directories.
    #[arg(long = "scenarios", value_name = "PATH", default_value = "scenarios")]
    pub scenarios: Vec<PathBuf>,
    /// Only scenarios whose id or name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Where junit.xml and report.json go.
    #[arg(long, value_name = "DIR", default_value = "target/conformance")]
    pub report_dir: PathBuf,
    /// Record snapshots instead of comparing them.
    #[arg(long)]
    pub update_snapshots: bool,
    /// Scenarios run at once (default: 1 against a live server, four per
    /// CPU against the embedded mock).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Seed of the embedded mock's data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Mutants per kind in every `fuzz` step (default: the step's `cases`,
    /// else 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub fuzz_cases: Option<u32>,
    /// Seed the `fuzz` steps draw their mutants from (default: a new one
    /// per run, printed and written to the reports, to replay a failure).
    #[arg(long, value_name = "S")]
    pub fuzz_seed: Option<u64>,
    #[command(flatten)]
    pub live: crate::live::LiveRunArgs,
}

#[derive(Debug, Args)]
pub struct MockArgs {
    #[arg(long, value_name = "NAME")]
    pub profile: String,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Synthetic patients to generate (per site).
    #[arg(long, default_value_t = 50)]
    pub patients: usize,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long = "scenarios", value_name = "PATH", default_value = "scenarios")]
    pub scenarios: Vec<PathBuf>,
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Also list the catalogue operations no scenario covers (declared in
    /// `covers` or called by a step).
    #[arg(long)]
    pub uncovered: bool,
}

/// An error that ends the command with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn parse_profiles(names: &[String]) -> Result<Vec<ProfileId>, UsageError> {
    names
        .iter()
        .map(|n| {
            n.parse::<ProfileId>()
                .map_err(|e| UsageError(e.to_string()))
        })
        .collect()
}

/// Loads scenarios and reports every broken file; `Err` means exit 2.
fn load(paths: &[PathBuf], err: &mut impl Write) -> Result<Vec<Scenario>, UsageError> {
    let (scenarios, errors) = load_all(paths);
    if !errors.is_empty() {
        for e in &errors {
            let _ = writeln!(err, "error: {e}");
        }
        return Err(UsageError(format!(
            "{} scenario file error(s); nothing was run",
            errors.len()
        )));
    }
    Ok(scenarios)
}

/// The snapshots directory: `snapshots/` beside the scenarios directory.
fn snapshots_dir(scenarios: &[PathBuf]) -> PathBuf {
    scenarios
        .first()
        .and_then(|p| {
            let dir = if p.is_dir() { p.as_path() } else { p.parent()? };
            // `scenarios/` → `snapshots/`; a nested path keeps its root.
            let mut root = dir;
            while let Some(parent) = root.parent() {
                if root.file_name().is_some_and(|n| n == "scenarios") {
                    break;
                }
                root = parent;
            }
            Some(root.parent().unwrap_or(Path::new(".")).join("snapshots"))
        })
        .unwrap_or_else(|| PathBuf::from("snapshots"))
}

/// `run`: returns the exit code.
pub async fn run(
    args: RunArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<u8, UsageError> {
    let profiles = parse_profiles(&args.profiles)?;
    let mut scenarios = load(&args.scenarios, err)?;
    scenarios.retain(|s| profiles.is_empty() || profiles.contains(&s.profile));
    if let Some(f) = &args.filter {
        scenarios.retain(|s| s.id.contains(f.as_str()) || s.name.contains(f.as_str()));
    }

    if let Some(shard) = &args.live.shard {
        scenarios = shard.select(scenarios, |s| s.id.clone());
    }
    let resolved = crate::live::resolve_target(&args.target, &profiles, &args.live, err)?;
    let (provisioner, label): (Arc<dyn Provisioner>, String) = match &resolved.live {
        None => (
            Arc::new(EmbeddedMock {
                seed: args.seed,
                ..EmbeddedMock::default()
            }),
            "the embedded mock".into(),
        ),
        Some(target) => (
            Arc::new(Live {
                target: target.clone(),
            }),
            resolved.label.clone(),
        ),
    };

    if scenarios.is_empty() {
        return Err(UsageError(
            "no scenario matches the given --scenarios, --profile, --filter and --shard".into(),
        ));
    }
    crate::live::check_writes(&scenarios, &resolved)?;

    let snapshots = Snapshots {
        dir: snapshots_dir(&args.scenarios),
        mode: if args.update_snapshots {
            SnapshotMode::Update
        } else if std::env::var_os("CI").is_some() {
            SnapshotMode::CompareOnly
        } else {
            SnapshotMode::Compare
        },
        redact_personal: resolved.redactor.redact_personal,
    };
    let recording_dir = crate::live::recording_dir(&args.live, &args.report_dir);
    let opts = Arc::new(RunOptions {
        snapshots,
        insecure: args.live.insecure,
        run_id: format!("{:x}", chrono::Utc::now().timestamp_millis()),
        policy: emr_harness::policy::RunPolicy {
            read_only: resolved.read_only,
            allow_writes: args.live.allow_writes,
            redactor: resolved.redactor.clone(),
            recorder: recording_dir
                .as_ref()
                .map(|_| Arc::new(emr_harness::diff::Recorder::new())),
        },
        fuzz: emr_harness::fuzz::FuzzSettings {
            cases: args.fuzz_cases,
            seed: args.fuzz_seed.unwrap_or_else(rand_seed),
        },
    });
    let jobs = args.jobs.unwrap_or_else(|| {
        if resolved.live.is_some() {
            // One scenario at a time on somebody's server unless asked.
            1
        } else {
            // Embedded scenarios mostly wait (OSCAR's 250 ms pause after a
            // wrong WS-Security password is a fifth of the suite's time), so
            // more run at once than there are cores.
            4 * std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    });
    let stdout_tty = std::io::stdout().is_terminal();
    let style = console::Style { color: stdout_tty };
    let shard = args
        .live
        .shard
        .map(|s| format!(", shard {s}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "    Starting {} scenario{} against {label} ({jobs} at a time{shard}{})",
        scenarios.len(),
        if scenarios.len() == 1 { "" } else { "s" },
        if resolved.read_only {
            ", read-only"
        } else {
            ""
        }
    );
    if scenarios
        .iter()
        .any(|s| s.steps.iter().any(|st| st.fuzz.is_some()))
    {
        let _ = writeln!(
            out,
            "        Fuzz seed {} ({} mutants per kind; replay with --fuzz-seed {})",
            opts.fuzz.seed,
            args.fuzz_cases
                .map_or_else(|| "the scenarios' count of".to_owned(), |n| n.to_string()),
            opts.fuzz.seed
        );
    }
    let _ = out.flush();
    let expected = match &args.live.expected {
        Some(path) => Some((
            emr_harness::expected::ExpectedResults::load(path)
                .map_err(|e| UsageError(e.to_string()))?,
            path.display().to_string(),
        )),
        None => None,
    };
    let progress = Arc::new(report::progress::Progress::new(
        scenarios.len(),
        report::progress::Progress::wants_bar(stdout_tty),
        style,
    ));
    let events = progress.clone();
    let marks = expected.as_ref().map(|(e, _)| e.clone());
    let mut suite = suite::run(
        scenarios,
        provisioner,
        opts.clone(),
        jobs,
        label,
        move |e| {
            // Progress goes straight to stdout so it appears as scenarios finish.
            let mut stdout = std::io::stdout();
            match e {
                Event::Started { id, .. } => events.started(id, &mut stdout),
                Event::Finished(o) => match &marks {
                    // The line says XFAIL/XPASS as the final report will.
                    Some(m) => {
                        let mut o = o.clone();
                        m.apply(std::slice::from_mut(&mut o), "");
                        events.finished(&o, &mut stdout)
                    }
                    None => events.finished(o, &mut stdout),
                },
            }
        },
    )
    .await;
    progress.clear(&mut std::io::stdout());
    let drift_failed = crate::live::after_run(
        &mut suite,
        &opts,
        &resolved,
        &args.live,
        recording_dir.as_deref(),
        expected,
        err,
    )?;
    let mut summary = Vec::new();
    let _ = console::summary(&suite, &mut summary, style);
    let _ = out.write_all(
        resolved
            .redactor
            .scrub(&String::from_utf8_lossy(&summary))
            .as_bytes(),
    );
    match report::write_files_scrubbed(&suite, &args.report_dir, &resolved.redactor) {
        Ok(paths) => {
            let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            let _ = writeln!(out, "     Reports {}", shown.join(", "));
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "error: cannot write reports to {}: {e}",
                args.report_dir.display()
            );
            return Ok(exit::FAILED);
        }
    }
    Ok(if suite.passed() && !drift_failed {
        exit::PASSED
    } else {
        exit::FAILED
    })
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when
/// this is called, not when the future is first polled, so a signal sent
/// right after the `listening` line is never lost.
fn interrupted() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// `mock`: serves until Ctrl-C.
pub async fn mock(args: MockArgs, out: &mut impl Write) -> Result<u8, UsageError> {
    let profile: ProfileId = args
        .profile
        .parse()
        .map_err(|e: emr_catalog::UnknownProfile| UsageError(e.to_string()))?;
    let mut config = MockConfig::new(profile);
    config.seed = args.seed;
    config.patients = args.patients;
    let server = MockServer::start(config, args.addr)
        .await
        .map_err(|e| UsageError(format!("cannot listen on {}: {e}", args.addr)))?;
    let stop = interrupted().map_err(|e| UsageError(format!("cannot watch for Ctrl-C: {e}")))?;
    let _ = writeln!(out, "listening on {}", server.base_url());
    let _ = out.flush();
    stop.await;
    let _ = server.shutdown().await;
    Ok(exit::PASSED)
}

/// `list`: scenarios, tags, covered operations, and declared coverage.
pub fn list(args: ListArgs, out: &mut impl Write, err: &mut impl Write) -> Result<u8, UsageError> {
    let profiles = parse_profiles(&args.profiles)?;
    let mut scenarios = load(&args.scenarios, err)?;
    scenarios.retain(|s| profiles.is_empty() || profiles.contains(&s.profile));
    let mut declared: std::collections::BTreeMap<ProfileId, std::collections::BTreeSet<String>> =
        Default::default();
    for s in &scenarios {
        let tags = if s.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", s.tags.join(", "))
        };
        let _ = writeln!(out, "{}  ({}){tags}", s.id, s.profile);
        let _ = writeln!(out, "    {}", s.name);
        for c in &s.covers {
            let _ = writeln!(out, "    covers {c}");
        }
        let entry = declared.entry(s.profile).or_default();
        entry.extend(s.covers.iter().cloned());
        // Operations the steps call count too, not only declared ones.
        entry.extend(emr_harness::coverage::called(s));
    }
    let _ = writeln!(out);
    let shown: Vec<ProfileId> = if profiles.is_empty() {
        ProfileId::ALL.to_vec()
    } else {
        profiles
    };
    for p in shown {
        let catalog = Catalog::of(p);
        let covered = declared.get(&p).cloned().unwrap_or_default();
        let _ = writeln!(
            out,
            "{p}: {} of {} documented operations covered by a scenario",
            covered.len(),
            catalog.operations().len()
        );
        if args.uncovered {
            for op in catalog
                .operations()
                .iter()
                .filter(|o| !covered.contains(&o.id))
            {
                let _ = writeln!(out, "    uncovered {}", op.id);
            }
        }
    }
    Ok(exit::PASSED)
}

/// A fuzz seed for a run that names none: different every run, and
/// printed so that a failure can be replayed.
fn rand_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() % 1_000_000_000
}
