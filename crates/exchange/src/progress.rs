//! Progress on stderr for big files: a bar with rows/s and ETA when the total is known,
//! otherwise a spinner with a count. Hidden when stderr is not a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::PROGRESS_THRESHOLD;

pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    enabled: bool,
    message: &'static str,
}

impl Progress {
    /// A progress display for `total` rows (None: unknown), shown only above the threshold.
    pub(crate) fn new(total: Option<u64>, message: &'static str, enabled: bool) -> Progress {
        let enabled = enabled && std::io::stderr().is_terminal();
        let mut p = Progress { bar: None, enabled, message };
        if let Some(t) = total {
            if t > PROGRESS_THRESHOLD && enabled {
                let bar = ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} 行 {rate} 预计剩余 {eta}",
                ) {
                    bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
                }
                bar.set_message(message);
                p.bar = Some(bar);
            }
        }
        p
    }

    /// Learns the total once the reader knows it (an xlsx sheet's dimension), for an ETA.
    pub(crate) fn set_total(&mut self, total: u64) {
        if self.bar.is_none() && self.enabled && total > PROGRESS_THRESHOLD {
            *self = Progress::new(Some(total), self.message, true);
        }
    }

    /// Moves to `pos` rows done; a spinner appears once an unknown total passes the threshold.
    pub(crate) fn set(&mut self, pos: u64) {
        if self.bar.is_none() && self.enabled && pos > PROGRESS_THRESHOLD {
            // Hidden until set up, so the first frame already shows the count.
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {pos} 行 {rate}") {
                bar.set_style(style.with_key("rate", rate));
            }
            bar.set_message(self.message);
            bar.set_position(pos);
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
            self.bar = Some(bar);
        }
        if let Some(b) = &self.bar {
            b.set_position(pos);
        }
    }

    pub(crate) fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

/// "1234 行/秒", without the decimals indicatif's own `{per_sec}` prints.
fn rate(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{:.0} 行/秒", state.per_sec());
}
