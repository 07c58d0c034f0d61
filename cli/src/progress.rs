//! A byte-count progress bar that draws only when stderr is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress of one long command, in bytes of tensor data.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar on stderr; indicatif draws nothing when stderr is not a terminal, so pipes, logs
    /// and tests stay clean. `enabled = false` hides it everywhere.
    pub fn new(message: &'static str, enabled: bool) -> Self {
        let target = if enabled { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bar = ProgressBar::with_draw_target(None, target).with_message(message);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        Progress { bar }
    }

    /// A bar that never draws.
    pub fn hidden() -> Self {
        Progress::new("", false)
    }

    /// Sets the total and starts the clock.
    pub fn start(&self, total: u64) {
        self.bar.set_length(total);
        self.bar.reset_eta();
    }

    /// Adds finished bytes.
    pub fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
