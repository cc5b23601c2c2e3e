//! How requests to a target are paced and retried, and how its TLS is
//! checked: a live server is somebody's clinic, so the harness sends at a
//! bounded rate, waits a bounded time, and retries only what is safe to
//! repeat.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Connection settings of a target. The mock gets the defaults: no rate
/// limit, no retries.
#[derive(Debug, Clone)]
pub struct NetSettings {
    pub connect_timeout: Duration,
    /// Shared by every scenario against the target.
    pub rate_limit: Option<Arc<RateLimiter>>,
    pub retries: RetryPolicy,
    /// Accept invalid certificates: only when the target file says so
    /// (`tls.insecure`) or `--insecure` is given, with a warning.
    pub insecure: bool,
    /// Extra trusted CA certificates (PEM), for staging servers with a
    /// private CA.
    pub ca_pem: Option<Arc<Vec<u8>>>,
}

impl Default for NetSettings {
    fn default() -> Self {
        NetSettings {
            connect_timeout: Duration::from_secs(10),
            rate_limit: None,
            retries: RetryPolicy::none(),
            insecure: false,
            ca_pem: None,
        }
    }
}

/// Spaces requests evenly: at most `per_second` start per second, across
/// every task that shares the limiter.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `None` for a rate that is not a positive, finite number.
    pub fn per_second(rate: f64) -> Option<RateLimiter> {
        if !(rate.is_finite() && rate > 0.0) {
            return None;
        }
        Some(RateLimiter {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(None),
        })
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Reserves the next slot at or after `now` and returns when it starts.
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut next = match self.next.lock() {
            Ok(n) => n,
            Err(poisoned) => poisoned.into_inner(),
        };
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        slot
    }

    /// Waits for the next slot.
    pub async fn acquire(&self) {
        let slot = self.reserve(Instant::now());
        tokio::time::sleep_until(tokio::time::Instant::from_std(slot)).await;
    }
}

/// Retries with exponential backoff, for idempotent reads only (GET and
/// HEAD): a write is never sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first wait; each later one doubles, capped at `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl RetryPolicy {
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }

    pub fn with_retries(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            ..RetryPolicy::none()
        }
    }

    /// Whether a request with this method may be retried at all.
    pub fn applies_to(method: &str) -> bool {
        method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
    }

    /// Whether a status is worth retrying: the server said "later".
    pub fn retry_status(status: u16) -> bool {
        matches!(status, 429 | 502 | 503 | 504)
    }

    /// The wait before retry number `retry` (1-based), honouring a
    /// `Retry-After` in seconds up to `max_backoff`.
    pub fn delay(&self, retry: u32, retry_after: Option<&str>) -> Duration {
        if let Some(secs) = retry_after.and_then(|v| v.trim().parse::<u64>().ok()) {
            return Duration::from_secs(secs).min(self.max_backoff);
        }
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_spaces_reservations_evenly() {
        let l = RateLimiter::per_second(4.0).unwrap();
        let t0 = Instant::now();
        let slots: Vec<Duration> = (0..5).map(|_| l.reserve(t0) - t0).collect();
        assert_eq!(
            slots,
            [0, 250, 500, 750, 1000].map(Duration::from_millis).to_vec()
        );
        // After a quiet period the next request goes at once.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(l.reserve(later), later);
        assert!(RateLimiter::per_second(0.0).is_none());
        assert!(RateLimiter::per_second(f64::NAN).is_none());
    }

    #[test]
    fn backoff_doubles_and_honours_retry_after() {
        let p = RetryPolicy::with_retries(3);
        assert_eq!(p.delay(1, None), Duration::from_millis(250));
        assert_eq!(p.delay(2, None), Duration::from_millis(500));
        assert_eq!(p.delay(3, None), Duration::from_secs(1));
        assert_eq!(p.delay(1, Some("2")), Duration::from_secs(2));
        assert_eq!(p.delay(1, Some("3600")), Duration::from_secs(8));
        assert!(RetryPolicy::applies_to("get") && RetryPolicy::applies_to("HEAD"));
        assert!(!RetryPolicy::applies_to("POST") && !RetryPolicy::applies_to("PUT"));
    }
}
