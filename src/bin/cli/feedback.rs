//! What the person running a live mode sees on stderr while the account is read: phase lines,
//! and for counted phases a bar with the rate and time left on a terminal, or a plain line every
//! few seconds when stderr is a file or a CI log. stdout stays the output.

use dynamodb_backup_rule::ports::Progress;
use dynamodb_backup_rule::Error;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often plain progress lines come when stderr is not a terminal.
pub const INTERVAL_VAR: &str = "PROGRESS_INTERVAL_SECONDS";
const DEFAULT_INTERVAL: f64 = 10.0;

/// The live modes' progress display.
pub struct Feedback {
    start: Instant,
    quiet: bool,
    terminal: bool,
    every: Duration,
    counted: Mutex<Option<Counted>>,
}

/// The counted phase under way.
struct Counted {
    what: String,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last_line: Instant,
    bar: Option<ProgressBar>,
}

impl Counted {
    /// "120/1000, 19.8/s, about 44 s left", or "120 so far, 19.8/s" when the total is unknown.
    fn status(&self) -> String {
        let rate = self.rate();
        match self.total {
            Some(total) => {
                let left = if rate > 0.0 {
                    format!(
                        ", about {} left",
                        human(total.saturating_sub(self.done) as f64 / rate)
                    )
                } else {
                    String::new()
                };
                format!("{}/{total}, {rate:.1}/s{left}", self.done)
            }
            None => format!("{} so far, {rate:.1}/s", self.done),
        }
    }

    fn rate(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        }
    }
}

/// Seconds as "42 s" or "7 min 20 s".
fn human(secs: f64) -> String {
    let s = secs.round() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

impl Feedback {
    /// The display for this process: a bar when stderr is a terminal, else plain lines every
    /// `PROGRESS_INTERVAL_SECONDS` (default 10); nothing when `quiet`.
    pub fn new(quiet: bool) -> Result<Feedback, Error> {
        let every = match std::env::var(INTERVAL_VAR) {
            Err(_) => DEFAULT_INTERVAL,
            Ok(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or_else(|| Error::Usage {
                    flag: INTERVAL_VAR.into(),
                    expected: format!("a number of seconds greater than 0, got `{v}`"),
                    source: None,
                })?,
        };
        Ok(Feedback {
            start: Instant::now(),
            quiet,
            terminal: console::Term::stderr().is_term(),
            every: Duration::from_secs_f64(every),
            counted: Mutex::new(None),
        })
    }

    fn line(&self, text: &str) {
        eprintln!("[{:>6.1}s] {text}", self.start.elapsed().as_secs_f64());
    }

    fn counted(&self) -> std::sync::MutexGuard<'_, Option<Counted>> {
        // A panic elsewhere while holding it leaves only a display behind; keep going.
        self.counted.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Progress for Feedback {
    fn note(&self, line: String) {
        if self.quiet {
            return;
        }
        match self.counted().as_ref().and_then(|c| c.bar.as_ref()) {
            // Above the bar, so the bar is not torn.
            Some(bar) => bar.println(format!(
                "[{:>6.1}s] {line}",
                self.start.elapsed().as_secs_f64()
            )),
            None => self.line(&line),
        }
    }

    fn start(&self, what: String, total: Option<u64>) {
        if self.quiet || total == Some(0) {
            return;
        }
        let bar = self.terminal.then(|| {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            // A bar with the time left when the total is known; a running count when not.
            let template = if total.is_some() {
                "{prefix} [{bar:30}] {pos}/{len}  {rate}  about {eta} left"
            } else {
                "{prefix} {spinner} {pos} so far  {rate}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .with_key(
                        "rate",
                        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.1}/s", s.per_sec());
                        },
                    )
                    .progress_chars("=> "),
            );
            bar.set_prefix(what.clone());
            if total.is_none() {
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            bar
        });
        if bar.is_none() {
            let of = total.map_or_else(String::new, |t| format!("/{t}"));
            self.line(&format!("{what}: 0{of}"));
        }
        *self.counted() = Some(Counted {
            what,
            total,
            done: 0,
            started: Instant::now(),
            last_line: Instant::now(),
            bar,
        });
    }

    fn advance(&self, n: u64) {
        let mut guard = self.counted();
        let Some(c) = guard.as_mut() else {
            return;
        };
        c.done += n;
        let unfinished = c.total.is_none_or(|t| c.done < t);
        match &c.bar {
            Some(bar) => bar.inc(n),
            None if c.last_line.elapsed() >= self.every && unfinished => {
                c.last_line = Instant::now();
                let text = format!("{}: {}", c.what, c.status());
                self.line(&text);
            }
            None => {}
        }
    }

    fn finish(&self) {
        let Some(c) = self.counted().take() else {
            return;
        };
        if let Some(bar) = &c.bar {
            bar.finish_and_clear();
        }
        let secs = c.started.elapsed().as_secs_f64();
        self.line(&format!(
            "{}: {} done in {} ({:.1}/s)",
            c.what,
            c.done,
            human(secs),
            if secs > 0.0 {
                c.done as f64 / secs
            } else {
                0.0
            }
        ));
    }
}
