//! Live progress: on a terminal, a bar with the scenario being run under
//! the result lines; elsewhere (CI, a pipe) plain result lines only.

use std::io::Write;
use std::sync::Mutex;

use crate::outcome::ScenarioOutcome;
use crate::report::console::{scenario_line, Style};

/// Prints result lines as scenarios finish, and on a terminal keeps a
/// progress bar on the last line.
#[derive(Debug)]
pub struct Progress {
    total: usize,
    bar: bool,
    style: Style,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    done: usize,
    running: Vec<String>,
    failed: usize,
}

impl Progress {
    /// `bar`: draw the bar (stdout is a terminal and not CI).
    pub fn new(total: usize, bar: bool, style: Style) -> Progress {
        Progress {
            total,
            bar,
            style,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether a bar suits this process: stdout is a terminal and `CI` is
    /// not set.
    pub fn wants_bar(stdout_is_terminal: bool) -> bool {
        stdout_is_terminal && std::env::var_os("CI").is_none()
    }

    pub fn started(&self, id: &str, out: &mut impl Write) {
        let mut st = self.lock();
        st.running.push(id.to_owned());
        if self.bar {
            let _ = write!(out, "\r\x1b[2K{}", self.bar_line(&st));
            let _ = out.flush();
        }
    }

    pub fn finished(&self, o: &ScenarioOutcome, out: &mut impl Write) {
        let mut st = self.lock();
        st.done += 1;
        if o.is_new_failure() {
            st.failed += 1;
        }
        if let Some(i) = st.running.iter().position(|r| r == &o.id) {
            st.running.remove(i);
        }
        if self.bar {
            let _ = write!(
                out,
                "\r\x1b[2K{}\n{}",
                scenario_line(o, self.style),
                self.bar_line(&st)
            );
        } else {
            let _ = writeln!(out, "{}", scenario_line(o, self.style));
        }
        let _ = out.flush();
    }

    /// Clears the bar before the summary is printed.
    pub fn clear(&self, out: &mut impl Write) {
        if self.bar {
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        }
    }

    fn bar_line(&self, st: &State) -> String {
        bar(
            st.done,
            self.total,
            st.failed,
            st.running.last().map(String::as_str),
            st.running.len(),
        )
    }
}

/// `[=========>          ] 12/40  2 failed  running oscar/x (+1)`.
pub fn bar(
    done: usize,
    total: usize,
    failed: usize,
    current: Option<&str>,
    running: usize,
) -> String {
    const WIDTH: usize = 24;
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    let mut s = String::from("[");
    s.push_str(&"=".repeat(filled));
    if filled < WIDTH {
        s.push('>');
        s.push_str(&" ".repeat(WIDTH - filled - 1));
    }
    s.push_str(&format!("] {done}/{total}"));
    if failed > 0 {
        s.push_str(&format!("  {failed} failed"));
    }
    if let Some(c) = current {
        let c: String = c.chars().take(60).collect();
        s.push_str(&format!("  running {c}"));
        if running > 1 {
            s.push_str(&format!(" (+{})", running - 1));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_progress_failures_and_the_current_scenario() {
        assert_eq!(
            bar(6, 24, 1, Some("oscar/demographics/read"), 3),
            "[======>                 ] 6/24  1 failed  running oscar/demographics/read (+2)"
        );
        assert_eq!(bar(2, 2, 0, None, 0), "[========================] 2/2");
        assert_eq!(bar(0, 0, 0, None, 0), "[========================] 0/0");
    }

    #[test]
    fn without_a_terminal_only_plain_lines_are_written() {
        let s = crate::scenario::parse(
            std::path::Path::new("t.yaml"),
            "x".into(),
            "name: n\nprofile: oscar\nsteps:\n  - request: {path: /a}\n",
        )
        .unwrap()
        .remove(0);
        let o = ScenarioOutcome::empty(&s);
        let mut out = Vec::new();
        let p = Progress::new(1, false, Style { color: false });
        p.started("x", &mut out);
        p.finished(&o, &mut out);
        p.clear(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\x1b') && !text.contains('\r'), "{text:?}");
        assert!(text.ends_with("x  n\n"), "{text:?}");
        let mut out = Vec::new();
        let p = Progress::new(1, true, Style { color: false });
        p.started("x", &mut out);
        p.finished(&o, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("running x") && text.contains("1/1"),
            "{text:?}"
        );
    }
}
