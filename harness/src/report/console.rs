//! The console report, in the spirit of cargo-nextest: one line per
//! scenario as it finishes, then every failure in full, then a summary.

use std::io::{self, Write};

use crate::outcome::{ScenarioOutcome, Status};
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
    let mut line = format!("{} {} {}  {}", style.status(o.status), time, o.id, o.name);
    if let Some(reason) = &o.skip_reason {
        line.push_str(&format!(" ({reason})"));
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
    for (i, step) in o.steps.iter().enumerate() {
        if step.status != Status::Failed {
            continue;
        }
        write!(out, "  step {} \"{}\"", i + 1, step.name)?;
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
    for o in s.outcomes.iter().filter(|o| o.status == Status::Failed) {
        writeln!(out)?;
        failure_details(o, out, style)?;
    }
    writeln!(out, "------------")?;
    let (passed, failed, skipped) = (
        s.count(Status::Passed),
        s.count(Status::Failed),
        s.count(Status::Skipped),
    );
    let verdict = if failed == 0 {
        style.paint("1;32", "     Summary")
    } else {
        style.paint("1;31", "     Summary")
    };
    writeln!(
        out,
        "{verdict} [{:>8.3}s] {} scenarios run against {}: {passed} passed, {failed} failed, {skipped} skipped",
        s.duration.as_secs_f64(),
        s.outcomes.len(),
        s.target
    )?;
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
