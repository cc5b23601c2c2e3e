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
use emr_harness::target::{Target, TargetKind};
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
    Run(RunArgs),
    /// Serve the mock until interrupted. The first line on stdout is
    /// `listening on http://ADDR`.
    Mock(MockArgs),
    /// List the scenarios, their tags and the operations each covers.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// `mock` (the embedded mock, one fresh server per scenario) or the
    /// base URL of a live server (then give exactly one --profile).
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
    /// Scenarios run at once (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Seed of the embedded mock's data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
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
    /// Also list the catalogue operations no scenario covers.
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

    let (provisioner, label): (Arc<dyn Provisioner>, String) = if args.target == "mock" {
        (
            Arc::new(EmbeddedMock {
                seed: args.seed,
                ..EmbeddedMock::default()
            }),
            "the embedded mock".into(),
        )
    } else {
        let [profile] = profiles.as_slice() else {
            return Err(UsageError(
                "--target URL needs exactly one --profile (the kind of server it is)".into(),
            ));
        };
        let url = url::Url::parse(&args.target).map_err(|e| {
            UsageError(format!(
                "--target `{}` is not `mock` or a URL: {e}",
                args.target
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UsageError(format!(
                "--target `{}` must be http(s)",
                args.target
            )));
        }
        let mut target = Target::new(
            TargetKind::Live,
            *profile,
            url.as_str(),
            serde_json::json!({}),
        );
        // A URL that already ends with the context (`https://host/oscar`)
        // is the webapp's base.
        if !target.context.is_empty() && target.root.ends_with(&target.context) {
            target
                .root
                .truncate(target.root.len() - target.context.len());
        }
        (Arc::new(Live { target }), args.target.clone())
    };

    if scenarios.is_empty() {
        return Err(UsageError(
            "no scenario matches the given --scenarios, --profile and --filter".into(),
        ));
    }

    let snapshots = Snapshots {
        dir: snapshots_dir(&args.scenarios),
        mode: if args.update_snapshots {
            SnapshotMode::Update
        } else if std::env::var_os("CI").is_some() {
            SnapshotMode::CompareOnly
        } else {
            SnapshotMode::Compare
        },
        redact_personal: args.target != "mock",
    };
    let opts = Arc::new(RunOptions {
        snapshots,
        insecure: false,
        run_id: format!("{:x}", chrono::Utc::now().timestamp_millis()),
        policy: Default::default(),
    });
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let style = console::Style {
        color: std::io::stdout().is_terminal(),
    };
    let _ = writeln!(
        out,
        "    Starting {} scenarios against {label} ({jobs} at a time)",
        scenarios.len()
    );
    let _ = out.flush();
    let suite = suite::run(scenarios, provisioner, opts, jobs, label, move |e| {
        if let Event::Finished(o) = e {
            // Progress goes straight to stdout so it appears as scenarios finish.
            println!("{}", console::scenario_line(o, style));
        }
    })
    .await;
    let _ = console::summary(&suite, out, style);
    match report::write_files(&suite, &args.report_dir) {
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
    Ok(if suite.passed() {
        exit::PASSED
    } else {
        exit::FAILED
    })
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
    let _ = writeln!(out, "listening on {}", server.base_url());
    let _ = out.flush();
    let _ = tokio::signal::ctrl_c().await;
    let _ = server.shutdown().await;
    Ok(exit::PASSED)
}

/// `list`: scenarios, tags, covered operations, and declared coverage.
pub fn list(args: ListArgs, out: &mut impl Write, err: &mut impl Write) -> Result<u8, UsageError> {
    let profiles = parse_profiles(&args.profiles)?;
    let mut scenarios = load(&args.scenarios, err)?;
    scenarios.retain(|s| profiles.is_empty() || profiles.contains(&s.profile));
    let mut declared: std::collections::BTreeMap<ProfileId, std::collections::BTreeSet<&str>> =
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
        declared
            .entry(s.profile)
            .or_default()
            .extend(s.covers.iter().map(String::as_str));
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
                .filter(|o| !covered.contains(o.id.as_str()))
            {
                let _ = writeln!(out, "    uncovered {}", op.id);
            }
        }
    }
    Ok(exit::PASSED)
}
