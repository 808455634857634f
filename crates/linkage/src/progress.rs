//! Progress of long work: a bar on a terminal, plain lines otherwise (stderr).
//! Messages carry counts only, never names or numbers of people.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

/// Receives the stages of a run.
pub trait Progress: Sync {
    /// A stage begins; `total` units of work if known.
    fn start(&self, stage: &str, total: Option<u64>);
    /// `n` more units done.
    fn advance(&self, n: u64);
    /// The stage ends, with a short summary (counts only).
    fn finish(&self, summary: &str);
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self, _: &str) {}
}

/// Reports to stderr: an indicatif bar when stderr is a terminal, else one
/// plain line per stage with its time.
pub struct StderrProgress {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    stage: Mutex<(String, Instant)>,
    terminal: bool,
}

impl Default for StderrProgress {
    fn default() -> Self {
        StderrProgress {
            bar: Mutex::new(None),
            stage: Mutex::new((String::new(), Instant::now())),
            terminal: std::io::stderr().is_terminal(),
        }
    }
}

impl StderrProgress {
    pub fn new() -> StderrProgress {
        StderrProgress::default()
    }
}

impl Progress for StderrProgress {
    fn start(&self, stage: &str, total: Option<u64>) {
        *self.stage.lock().unwrap() = (stage.to_owned(), Instant::now());
        if self.terminal {
            let bar = match total {
                Some(t) => indicatif::ProgressBar::new(t).with_style(
                    indicatif::ProgressStyle::with_template("{msg:24} [{bar:40}] {pos}/{len} ({eta})")
                        .unwrap()
                        .progress_chars("=> "),
                ),
                None => indicatif::ProgressBar::new_spinner(),
            };
            bar.set_message(stage.to_owned());
            *self.bar.lock().unwrap() = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Some(b) = self.bar.lock().unwrap().as_ref() {
            b.inc(n);
        }
    }

    fn finish(&self, summary: &str) {
        if let Some(b) = self.bar.lock().unwrap().take() {
            b.finish_and_clear();
        }
        let (stage, t0) = self.stage.lock().unwrap().clone();
        eprintln!("[link] {stage}: {summary} ({:.2} s)", t0.elapsed().as_secs_f64());
    }
}
