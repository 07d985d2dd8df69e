//! The memory sampler thread: process RSS and DuckDB's own accounting every 250 ms while memory
//! moves, and every second while it stands still (an idle window then costs less than 1% of a
//! core: the sampler took 0.6% of one at 250 ms, more than drawing the window).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use duckdb::Connection;

use super::events::{EngineEvent, EventSender};
use crate::memory::{MemoryHistory, MemorySample, current_rss_bytes, return_freed_memory};
use crate::store::{Store, now_ms};

/// Samples between two returns of freed memory to the system (about 2 s at 250 ms).
const TRIM_EVERY_TICKS: u64 = 8;
/// Samples in a row within [`STILL_BYTES`] of the one before, after which memory counts as still.
const STILL_AFTER_SAMPLES: u32 = 4;
/// A change of memory smaller than this is standing still.
const STILL_BYTES: u64 = 1 << 20;
/// How often memory is sampled while it stands still.
const STILL_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct Sampler {
    pub store: Store,
    pub events: EventSender,
    pub history: Arc<Mutex<MemoryHistory>>,
    pub stop: Receiver<()>,
    pub interval: Duration,
}

impl Sampler {
    pub fn run(self) {
        let mut previous: Option<MemorySample> = None;
        let mut still_samples = 0u32;
        for tick in 0u64.. {
            let sample = MemorySample {
                at_ms: now_ms(),
                rss_bytes: current_rss_bytes(),
                duckdb_bytes: duckdb_memory_bytes(self.store.conn()),
            };
            still_samples = match previous {
                Some(before) if is_still(&before, &sample) => still_samples.saturating_add(1),
                _ => 0,
            };
            previous = Some(sample);
            let still = still_samples >= STILL_AFTER_SAMPLES;
            // Every few seconds while memory moves, and once as it comes to rest (after a job,
            // to give back what it freed); not every sample: it takes each allocator arena's
            // lock in turn.
            if (!still && tick.is_multiple_of(TRIM_EVERY_TICKS)) || still_samples == STILL_AFTER_SAMPLES {
                return_freed_memory();
            }
            if let Ok(mut history) = self.history.lock() {
                history.push(sample);
            }
            // Samples are replaceable: when the front end lags, this one is dropped; and they do
            // not wake it, it reads them at its next frame.
            let _ = self.events.try_send_quiet(EngineEvent::Memory(sample));
            let interval = if still {
                STILL_INTERVAL.max(self.interval)
            } else {
                self.interval
            };
            match self.stop.recv_timeout(interval) {
                Err(RecvTimeoutError::Timeout) => continue,
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }
}

/// Whether memory stood still between two samples.
fn is_still(before: &MemorySample, after: &MemorySample) -> bool {
    let close = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => a.abs_diff(b) < STILL_BYTES,
        (None, None) => true,
        _ => false,
    };
    close(before.rss_bytes, after.rss_bytes) && close(before.duckdb_bytes, after.duckdb_bytes)
}

/// Memory DuckDB's buffer manager holds, from `duckdb_memory()`.
pub fn duckdb_memory_bytes(conn: &Connection) -> Option<u64> {
    conn.query_row(
        "SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory()",
        [],
        |row| row.get::<_, i64>(0),
    )
    .ok()
    .map(|bytes| bytes.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rss: u64, duckdb: u64) -> MemorySample {
        MemorySample {
            at_ms: 0,
            rss_bytes: Some(rss),
            duckdb_bytes: Some(duckdb),
        }
    }

    #[test]
    fn memory_stands_still_only_when_both_figures_barely_move() {
        let base = sample(100 << 20, 10 << 20);
        assert!(is_still(&base, &sample((100 << 20) + 4096, 10 << 20)));
        assert!(!is_still(&base, &sample(102 << 20, 10 << 20)));
        assert!(!is_still(&base, &sample(100 << 20, 8 << 20)));
        let unknown = MemorySample {
            rss_bytes: None,
            ..base
        };
        assert!(!is_still(&base, &unknown));
    }
}
