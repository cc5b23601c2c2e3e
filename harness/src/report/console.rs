//! The console report, in the spirit of cargo-nextest: one line per
//! scenario as it finishes, then every failure in full, then a summary.

use std::io::{self, Write};

use crate::outcome::{Expectation, ScenarioOutcome, Status};
use crate::suite::SuiteOutcome;

/// ANSI colours, or none when the output is not a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn status(&self, status: Status) -> String {
        match status {
            Status::Passed => self.paint("1;32", "    PASS"),
            Status::Failed => self.paint("1;31", "    FAIL"),
            Status::Skipped => self.paint("1;33", "    SKIP"),
        }
    }
}

/// The line printed when a scenario finishes.
pub fn scenario_line(o: &ScenarioOutcome, style: Style) -> String {
    let time = format!("[{:>8.3}s]", o.duration.as_secs_f64());
    let status = match &o.expectation {
        Some(Expectation::AcceptedFailure { .. }) if o.status == Status::Failed => {
            style.paint("1;34", "   XFAIL")
        }
        Some(Expectation::NowPasses { .. }) if o.status == Status::Passed => {
            style.paint("1;33", "   XPASS")
        }
        _ => style.status(o.status),
    };
    let mut line = format!("{status} {time} {}  {}", o.id, o.name);
    if let Some(reason) = &o.skip_reason {
        line.push_str(&format!(" ({reason})"));
    }
    match &o.expectation {
        Some(Expectation::AcceptedFailure { reason }) => {
            line.push_str(&format!(" (expected failure: {reason})"))
        }
        Some(Expectation::NowPasses { reason }) => line.push_str(&format!(
            " (listed as an expected failure, passes now: {reason})"
        )),
        None => {}
    }
    line
}

/// Every failure of a scenario, with the request and response that
/// showed it.
pub fn failure_details(o: &ScenarioOutcome, out: &mut impl Write, style: Style) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        style.paint("1;31", &format!("--- FAIL {} ({}) ---", o.id, o.file))
    )?;
    for f in &o.failures {
        writeln!(out, "  {}: {}", f.subject, f.message)?;
    }
    let cleanup = o
        .cleanup
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s, "cleanup step"));
    for (i, step, what) in o
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s, "step"))
        .chain(cleanup)
    {
        if step.status != Status::Failed {
            continue;
        }
        write!(out, "  {what} {} \"{}\"", i + 1, step.name)?;
        if let Some(x) = &step.exchange {
            write!(out, ": {} {}", x.method, x.url)?;
            if let Some(s) = x.status {
                write!(out, " -> {s} {}", x.content_type.as_deref().unwrap_or(""))?;
            }
            if step.attempts > 1 {
                write!(out, " (attempt {})", step.attempts)?;
            }
        }
        writeln!(out)?;
        for f in &step.failures {
            writeln!(out, "    {}: {}", f.subject, f.message)?;
            if let Some(d) = &f.diff {
                for line in d.lines() {
                    let painted = if line.starts_with('-') && !line.starts_with("---") {
                        style.paint("31", line)
                    } else if line.starts_with('+') && !line.starts_with("+++") {
                        style.paint("32", line)
                    } else {
                        line.to_owned()
                    };
                    writeln!(out, "      {painted}")?;
                }
            }
        }
        if let Some(body) = step
            .exchange
            .as_ref()
            .and_then(|x| x.response_body.as_deref())
        {
            if !body.is_empty() {
                let shown: String = body.chars().take(800).collect();
                writeln!(
                    out,
                    "    response body: {}",
                    shown.replace('\n', "\n      ")
                )?;
            }
        }
    }
    Ok(())
}

/// Failures in full, the summary line and coverage per profile.
pub fn summary(s: &SuiteOutcome, out: &mut impl Write, style: Style) -> io::Result<()> {
    for o in s.outcomes.iter().filter(|o| o.is_new_failure()) {
        writeln!(out)?;
        failure_details(o, out, style)?;
    }
    let left: Vec<(&str, &String)> = s
        .outcomes
        .iter()
        .flat_map(|o| o.left_behind.iter().map(move |l| (o.id.as_str(), l)))
        .collect();
    if !left.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.paint("1;33", "Left on the target:"))?;
        for (id, l) in left {
            writeln!(out, "  {id}: {l}")?;
        }
    }
    writeln!(out, "------------")?;
    let (passed, failed, skipped) = (
        s.count(Status::Passed),
        s.count(Status::Failed),
        s.count(Status::Skipped),
    );
    let verdict = if s.passed() {
        style.paint("1;32", "     Summary")
    } else {
        style.paint("1;31", "     Summary")
    };
    let accepted = s
        .outcomes
        .iter()
        .filter(|o| o.is_accepted_failure())
        .count();
    let expected = if accepted > 0 {
        format!(" ({accepted} expected)")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{verdict} [{:>8.3}s] {} scenario{} run against {}: {passed} passed, {failed} failed{expected}, {skipped} skipped",
        s.duration.as_secs_f64(),
        s.outcomes.len(),
        if s.outcomes.len() == 1 { "" } else { "s" },
        s.target
    )?;
    if let Some(e) = &s.extras.expected {
        for (id, reason) in &e.now_passing {
            writeln!(
                out,
                "{} {id} passes now but {} lists it as an expected failure ({reason}): remove the entry",
                style.paint("1;33", "       XPASS"),
                e.file
            )?;
        }
        for u in &e.unused {
            writeln!(
                out,
                "        Note {} lists `{}`, which matched no scenario of this run",
                e.file, u.scenario
            )?;
        }
    }
    let reqs = crate::report::requirements::group(&s.outcomes);
    if !reqs.is_empty() {
        let (proven, failed, accepted, not_run) = crate::report::requirements::tally(&reqs);
        writeln!(
            out,
            "Requirements {proven} proven, {failed} failed, {accepted} accepted deviations, {not_run} not run"
        )?;
        for r in reqs
            .iter()
            .filter(|r| r.verdict == crate::report::requirements::Verdict::Failed)
        {
            let ids: Vec<&str> = r.scenarios.iter().map(|(id, _)| id.as_str()).collect();
            writeln!(out, "      failed {} ({})", r.id, ids.join(", "))?;
        }
    }
    if let Some(d) = &s.extras.drift {
        writeln!(
            out,
            "       Drift {} → {}: {} breaking, {} additions, {} other changes",
            d.before, d.after, d.summary.breaking, d.summary.additions, d.summary.info
        )?;
    }
    let (fuzz, seeds) = crate::fuzz::totals(&s.outcomes);
    if !fuzz.is_empty() {
        let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
        writeln!(
            out,
            "        Fuzz seed {}: {} cases, {} mutants accepted that must be refused (must be 0)",
            seeds.join(", "),
            fuzz.iter().map(|f| f.cases).sum::<u64>(),
            fuzz.iter().map(|f| f.accepted_wrongly).sum::<u64>()
        )?;
        for f in &fuzz {
            let line = format!(
                "{:<32} {:>6} cases {:>8.1}/s  accepted {:>3}  wrong answers {:>3}",
                f.family, f.cases, f.cases_per_second, f.accepted_wrongly, f.violations
            );
            let painted = if f.violations > 0 {
                style.paint("31", &line)
            } else {
                line
            };
            writeln!(out, "          {painted}")?;
        }
    }
    for c in &s.coverage {
        let parts: Vec<String> = c
            .apis
            .iter()
            .map(|a| format!("{} {}/{}", a.api, a.covered, a.total))
            .collect();
        writeln!(
            out,
            "    Coverage {}: {}/{} documented operations ({})",
            c.profile,
            c.covered,
            c.total,
            parts.join(", ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn suite(n: usize) -> SuiteOutcome {
        let s = crate::scenario::parse(
            Path::new("t.yaml"),
            "t".into(),
            "name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n",
        )
        .expect("a valid scenario")
        .remove(0);
        let mut o = ScenarioOutcome::empty(&s);
        o.status = Status::Passed;
        SuiteOutcome {
            started: chrono::Utc::now(),
            duration: std::time::Duration::ZERO,
            target: "the embedded mock".into(),
            outcomes: vec![o; n],
            coverage: Vec::new(),
            extras: Default::default(),
        }
    }

    #[test]
    fn the_summary_counts_scenarios_in_words() {
        let line = |n| {
            let mut out = Vec::new();
            summary(&suite(n), &mut out, Style { color: false }).expect("written");
            String::from_utf8(out).expect("text")
        };
        assert!(line(1).contains(" 1 scenario run against the embedded mock: 1 passed"));
        assert!(line(2).contains(" 2 scenarios run against"));
    }
}
