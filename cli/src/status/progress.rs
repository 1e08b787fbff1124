//! A progress bar on stderr while the survey reads, only when a person watches (stderr is a
//! terminal): a hub's survey takes tens of seconds. Piped, it prints nothing, and stdout is
//! never touched. One line redrawn in place, at most ten times a second; no dependency.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use peerwire::reconcile::SurveyProgress;

const WIDTH: usize = 30;
const EVERY: Duration = Duration::from_millis(100);

/// The bar, or nothing when stderr is not a terminal.
#[derive(Debug)]
pub struct Bar {
    drawn: Option<Mutex<Option<Instant>>>,
}

impl Bar {
    /// Drawn only when stderr is a terminal.
    pub fn for_stderr() -> Self {
        Self {
            drawn: std::io::stderr().is_terminal().then(|| Mutex::new(None)),
        }
    }

    /// Redraws the bar for `progress` (skipped when drawn less than 100 ms ago, unless it is
    /// the last step).
    pub fn show(&self, progress: SurveyProgress) {
        let Some(drawn) = &self.drawn else {
            return;
        };
        let Ok(mut last) = drawn.lock() else {
            return;
        };
        let (done, of) = match progress {
            SurveyProgress::Listed { .. } => (0, 1),
            SurveyProgress::Planned { done, of } | SurveyProgress::Searched { done, of } => {
                (done, of)
            }
        };
        let now = Instant::now();
        if done < of && last.is_some_and(|at| now.duration_since(at) < EVERY) {
            return;
        }
        *last = Some(now);
        let mut stderr = std::io::stderr().lock();
        // Progress is a courtesy: a closed terminal must not fail the command.
        let _ = write!(stderr, "\r\x1b[2K{}", line(progress));
        let _ = stderr.flush();
    }

    /// Clears the bar's line, so that what follows starts on a clean line.
    pub fn finish(&self) {
        if self.drawn.is_some() {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}

/// The bar's text: `[#########.....] 120/500 peerings planned`.
pub fn line(progress: SurveyProgress) -> String {
    match progress {
        SurveyProgress::Listed { peerings } => {
            format!("listed {peerings} peerings; reading both sides of each")
        }
        SurveyProgress::Planned { done, of } => {
            format!("{} {done}/{of} peerings read and planned", bar(done, of))
        }
        SurveyProgress::Searched { done, of } => format!(
            "{} {done}/{of} accounts and regions searched for leftovers",
            bar(done, of)
        ),
    }
}

fn bar(done: usize, of: usize) -> String {
    let filled = (done * WIDTH).checked_div(of).unwrap_or(WIDTH).min(WIDTH);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(WIDTH - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_work_done() {
        assert_eq!(
            line(SurveyProgress::Planned { done: 250, of: 500 }),
            format!(
                "[{}{}] 250/500 peerings read and planned",
                "#".repeat(15),
                ".".repeat(15)
            )
        );
        assert!(line(SurveyProgress::Searched { done: 0, of: 0 })
            .starts_with(&format!("[{}]", "#".repeat(WIDTH))));
    }
}
