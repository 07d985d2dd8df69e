//! A token bucket that caps rows per second.
//!
//! Tokens refill continuously at the rate, up to a capacity of one batch, so the long-run rate is
//! the cap while a single batch may pass as a burst. The bucket starts empty: a job that asks for
//! 50,000 rows/s takes 4 s for 200,000 rows, not 3 s plus a free first batch.
//!
//! Time comes from a [`Clock`], so the arithmetic is tested without sleeping.

use std::time::{Duration, Instant};

/// Where the bucket gets the time from and how it waits.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Instant;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration);
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// Caps a stream of rows at `rows_per_sec`.
#[derive(Debug)]
pub struct TokenBucket<C: Clock = SystemClock> {
    clock: C,
    rows_per_sec: f64,
    capacity: f64,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket<SystemClock> {
    /// A bucket on the system clock (see [`TokenBucket::with_clock`]).
    pub fn new(rows_per_sec: u64, burst_rows: u64) -> Self {
        Self::with_clock(rows_per_sec, burst_rows, SystemClock)
    }
}

impl<C: Clock> TokenBucket<C> {
    /// A bucket of `burst_rows` capacity (at least one second's worth is not required; at least one
    /// row is), refilled at `rows_per_sec` (at least one).
    pub fn with_clock(rows_per_sec: u64, burst_rows: u64, clock: C) -> Self {
        let refilled_at = clock.now();
        Self {
            clock,
            rows_per_sec: rows_per_sec.max(1) as f64,
            capacity: burst_rows.max(1) as f64,
            tokens: 0.0,
            refilled_at,
        }
    }

    /// The rate the bucket refills at, in rows per second.
    pub fn rows_per_sec(&self) -> u64 {
        self.rows_per_sec as u64
    }

    fn refill(&mut self) {
        let now = self.clock.now();
        let elapsed = now.saturating_duration_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rows_per_sec).min(self.capacity);
        self.refilled_at = now;
    }

    /// How long to wait before `rows` may pass; zero when they may pass now (and are taken).
    pub fn try_take(&mut self, rows: u64) -> Duration {
        self.refill();
        let wanted = (rows as f64).min(self.capacity);
        if self.tokens >= wanted {
            self.tokens -= wanted;
            Duration::ZERO
        } else {
            Duration::from_secs_f64((wanted - self.tokens) / self.rows_per_sec)
        }
    }

    /// Waits until `rows` may pass, then takes them. Requests larger than the capacity are taken in
    /// capacity-sized parts. `should_stop` is checked between waits of at most 100 ms, so a
    /// throttled job still cancels promptly; it returns false when it stopped early.
    pub fn take(&mut self, rows: u64, should_stop: &dyn Fn() -> bool) -> bool {
        let mut remaining = rows;
        while remaining > 0 {
            let part = remaining.min(self.capacity as u64).max(1);
            loop {
                let wait = self.try_take(part);
                if wait.is_zero() {
                    break;
                }
                if should_stop() {
                    return false;
                }
                self.clock.sleep(wait.min(Duration::from_millis(100)));
            }
            remaining -= part.min(remaining);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    /// A clock that only moves when the bucket sleeps.
    #[derive(Clone)]
    struct FakeClock {
        start: Instant,
        elapsed: Rc<Cell<Duration>>,
    }

    impl FakeClock {
        fn new() -> Self {
            Self {
                start: Instant::now(),
                elapsed: Rc::new(Cell::new(Duration::ZERO)),
            }
        }

        fn advance(&self, duration: Duration) {
            self.elapsed.set(self.elapsed.get() + duration);
        }

        fn seconds(&self) -> f64 {
            self.elapsed.get().as_secs_f64()
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.start + self.elapsed.get()
        }

        fn sleep(&self, duration: Duration) {
            self.advance(duration);
        }
    }

    #[test]
    fn starts_empty_and_refills_at_the_rate() {
        let clock = FakeClock::new();
        let mut bucket = TokenBucket::with_clock(1000, 500, clock.clone());
        assert_eq!(bucket.try_take(100), Duration::from_millis(100));
        clock.advance(Duration::from_millis(100));
        assert_eq!(bucket.try_take(100), Duration::ZERO);
    }

    #[test]
    fn the_long_run_rate_is_the_cap() {
        let clock = FakeClock::new();
        let mut bucket = TokenBucket::with_clock(50_000, 50_000, clock.clone());
        for _ in 0..200 {
            assert!(bucket.take(1_000, &|| false));
        }
        let seconds = clock.seconds();
        assert!((seconds - 4.0).abs() < 0.01, "took {seconds} s");
    }

    #[test]
    fn bursts_are_capped_at_the_capacity() {
        let clock = FakeClock::new();
        let mut bucket = TokenBucket::with_clock(1000, 100, clock.clone());
        clock.advance(Duration::from_secs(60));
        assert_eq!(bucket.try_take(100), Duration::ZERO);
        assert_eq!(bucket.try_take(100), Duration::from_millis(100));
    }

    #[test]
    fn requests_beyond_the_capacity_pass_in_parts() {
        let clock = FakeClock::new();
        let mut bucket = TokenBucket::with_clock(1000, 100, clock.clone());
        assert!(bucket.take(1000, &|| false));
        assert!((clock.seconds() - 1.0).abs() < 0.01);
    }

    #[test]
    fn a_stop_request_ends_the_wait() {
        let clock = FakeClock::new();
        let mut bucket = TokenBucket::with_clock(1, 10, clock.clone());
        let checks = Cell::new(0);
        let stop = || {
            checks.set(checks.get() + 1);
            checks.get() > 2
        };
        assert!(!bucket.take(10, &stop));
        assert!(clock.seconds() < 1.0);
    }
}
