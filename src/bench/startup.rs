//! `emr-conformance bench --startup`: how long `emr-conformance mock`
//! takes from being spawned to printing its `listening` line, per profile,
//! with the default seed and size. The binary measured is this one.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use emr_catalog::ProfileId;
use serde_json::{json, Value};

use crate::cli::UsageError;

/// Target of issue 9, shown beside each figure.
pub const MAX_STARTUP_MS: f64 = 100.0;

/// One spawn: milliseconds to the `listening` line, and the child's
/// resident memory then (kB).
fn spawn_once(profile: ProfileId, patients: usize) -> Result<(f64, Option<u64>), UsageError> {
    let exe = std::env::current_exe()
        .map_err(|e| UsageError(format!("cannot find this program's path: {e}")))?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args([
            "mock",
            "--profile",
            profile.as_str(),
            "--addr",
            "127.0.0.1:0",
        ])
        .args(["--patients", &patients.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| UsageError(format!("cannot start the mock: {e}")))?;
    let mut line = String::new();
    let read = match child.stdout.take() {
        Some(out) => BufReader::new(out).read_line(&mut line),
        None => Ok(0),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let rss = super::proc_status_kb(&format!("/proc/{}/status", child.id()), "VmRSS");
    let _ = child.kill();
    let _ = child.wait();
    match read {
        Ok(_) if line.starts_with("listening") => Ok((ms, rss)),
        Ok(_) => Err(UsageError(format!(
            "the {profile} mock printed {:?} instead of its listening line",
            line.trim()
        ))),
        Err(e) => Err(UsageError(format!("cannot read the {profile} mock: {e}"))),
    }
}

/// Spawns each profile's mock `rounds` times; prints and returns figures.
pub fn run(rounds: usize, patients: usize, out: &mut impl Write) -> Result<Value, UsageError> {
    let _ = writeln!(
        out,
        "start-up of `emr-conformance mock` to its listening line ({patients} patients per site, {rounds} spawn(s) per profile); load average {}",
        super::loadavg()
    );
    let mut figures = Vec::new();
    for profile in ProfileId::ALL {
        let mut times = Vec::new();
        let mut rss = None;
        for _ in 0..rounds {
            let (ms, kb) = spawn_once(profile, patients)?;
            times.push(ms);
            rss = kb.or(rss);
        }
        let median = super::median(times.clone());
        let (lo, hi) = super::spread(&times);
        let _ = writeln!(
            out,
            "  {:<13} median {median:>6.1} ms  [{lo:.1}–{hi:.1}]  RSS {:>6.1} MiB  {}",
            profile.as_str(),
            rss.map_or(f64::NAN, |k| k as f64 / 1024.0),
            if median < MAX_STARTUP_MS {
                "target met"
            } else {
                "TARGET MISSED"
            }
        );
        figures.push(json!({
            "profile": profile.as_str(),
            "median_ms": median,
            "min_ms": lo,
            "max_ms": hi,
            "rss_kb": rss,
        }));
    }
    let _ = writeln!(out, "load average after {}", super::loadavg());
    Ok(Value::Array(figures))
}
