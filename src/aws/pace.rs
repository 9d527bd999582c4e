//! Client-side pacing: a token bucket per account, Region and service, so large reads stay under
//! AWS's request-rate quotas instead of leaning on retries. Bursts up to the bucket size go
//! straight through, so a single change event is never slowed down.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket: `rate` requests per second on average, `burst` at once at most.
#[derive(Debug)]
pub struct Pacer {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl Pacer {
    /// A full bucket of `burst` tokens refilled at `per_second`. A burst of 1 is strict pacing:
    /// no second ever sees more than `per_second` requests.
    pub fn new(per_second: u32, burst: u32) -> Pacer {
        let burst = f64::from(burst.max(1));
        Pacer {
            rate: f64::from(per_second.max(1)),
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes a token now and says how long to wait before using it. Tokens may go negative:
    /// that is the queue of callers already waiting.
    fn reserve(&self) -> Duration {
        let Ok(mut s) = self.state.lock() else {
            return Duration::ZERO;
        };
        let now = Instant::now();
        let (tokens, last) = *s;
        let tokens =
            (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst) - 1.0;
        *s = (tokens, now);
        if tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-tokens / self.rate)
        }
    }

    /// Requests per second on average.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_passes_then_the_rate_holds() {
        let pacer = Pacer::new(50, 50);
        let start = Instant::now();
        for _ in 0..50 {
            pacer.acquire().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(20),
            "the burst is free"
        );
        for _ in 0..25 {
            pacer.acquire().await;
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(480) && took < Duration::from_millis(900),
            "{took:?}"
        );
    }
}
