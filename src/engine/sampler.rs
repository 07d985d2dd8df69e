//! The memory sampler thread: process RSS and DuckDB's own accounting every 250 ms.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use duckdb::Connection;

use super::events::{EngineEvent, EventSender};
use crate::memory::{MemoryHistory, MemorySample, current_rss_bytes, return_freed_memory};
use crate::store::{Store, now_ms};

/// Samples between two returns of freed memory to the system (about 2 s at 250 ms).
const TRIM_EVERY_TICKS: u64 = 8;

pub(crate) struct Sampler {
    pub store: Store,
    pub events: EventSender,
    pub history: Arc<Mutex<MemoryHistory>>,
    pub stop: Receiver<()>,
    pub interval: Duration,
}

impl Sampler {
    pub fn run(self) {
        for tick in 0u64.. {
            // Every few seconds, not every sample: it takes each allocator arena's lock in turn.
            if tick.is_multiple_of(TRIM_EVERY_TICKS) {
                return_freed_memory();
            }
            let sample = MemorySample {
                at_ms: now_ms(),
                rss_bytes: current_rss_bytes(),
                duckdb_bytes: duckdb_memory_bytes(self.store.conn()),
            };
            if let Ok(mut history) = self.history.lock() {
                history.push(sample);
            }
            // Samples are replaceable: when the front end lags, this one is dropped; and they do
            // not wake it, it reads them at its next frame.
            let _ = self.events.try_send_quiet(EngineEvent::Memory(sample));
            match self.stop.recv_timeout(self.interval) {
                Err(RecvTimeoutError::Timeout) => continue,
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }
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
