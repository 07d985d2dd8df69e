//! Process memory readings, used for the peak figures in job summaries and benchmarks, and the
//! machine's RAM, which bounds what the window's memory gauge measures against; and the allocator
//! settings that keep resident memory close to what is in use.

/// Gives the pages of freed memory back to the system, so that resident memory follows what
/// the process holds rather than the most it ever held. The memory sampler calls it every few
/// seconds.
///
/// DuckDB allocates its buffers in 256 KiB blocks, which glibc serves from its heap arenas once
/// its dynamic mmap threshold has risen past them. A block freed in the middle of an arena stays
/// resident until `malloc_trim` releases its pages, so a long job's resident memory crept upward
/// even under a DuckDB memory limit. (Measured importing a 1M-row sheet against a 200k-row one:
/// peak RSS 1.20x without, 1.17x with, on average over three runs each.)
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages; it takes the allocator's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Caps glibc's heap arenas at `arenas`. glibc gives threads that contend for the allocator
/// arenas of their own, up to eight per core, and each keeps what was freed in it; the window
/// runs a dozen threads (workers, parser, loaders, DuckDB's, drawing), so its resident memory
/// held the leftovers of every arena. Measured in the window under Xvfb, importing 5M rows: a
/// peak of 297 MiB with glibc's default, 284 MiB with four arenas and 274 MiB with two, for
/// 4.3, 4.5 and 4.6 s.
pub fn limit_allocator_arenas(arenas: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning, under the allocator's own lock.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas.max(1) as libc::c_int);
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = arenas;
}

/// Has glibc map every allocation of a DuckDB block (256 KiB) or more on its own and unmap it
/// when freed, instead of keeping freed blocks resident in its heap arenas; the command line
/// does this for a workbook import, which runs alone in its process.
///
/// It trades time for flat memory: each new block is faulted in afresh. A workbook import is
/// bound by reading the sheet's XML (4x a CSV import's time), so the faults do not show there:
/// a 1M-row sheet took the same 2.0 s, at a peak 1.15-1.16x that of a 200k-row sheet against
/// 1.19-1.23x. A 5M-row CSV import took 12% longer, so CSV imports keep glibc's default.
pub fn map_large_blocks_apart() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const DUCKDB_BLOCK_BYTES: libc::c_int = 256 * 1024;
        // SAFETY: mallopt only changes the allocator's tuning, under the allocator's own lock.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, DUCKDB_BLOCK_BYTES);
        }
    }
}

/// The process's resident set size now, in bytes, if the platform reports it.
pub fn current_rss_bytes() -> Option<u64> {
    memory_stats::memory_stats().map(|stats| stats.physical_mem as u64)
}

/// The highest resident set size this process has reached, in bytes.
///
/// On Linux this is the kernel's own high-water mark (`VmHWM`), so short spikes between samples are
/// not missed. Elsewhere it falls back to the current reading.
pub fn peak_rss_bytes() -> Option<u64> {
    read_vm_hwm().or_else(current_rss_bytes)
}

/// Starts the high-water mark again from the resident set size now, so a benchmark can give each
/// step its own peak. Linux only (`/proc/self/clear_refs`); elsewhere nothing changes.
pub fn reset_peak_rss() {
    #[cfg(target_os = "linux")]
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[cfg(target_os = "linux")]
fn read_vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status_kib(&status, "VmHWM:").map(|kib| kib * 1024)
}

#[cfg(not(target_os = "linux"))]
fn read_vm_hwm() -> Option<u64> {
    None
}

/// The machine's physical memory in bytes, where the platform reports it (`MemTotal` on Linux;
/// none elsewhere).
pub fn total_memory_bytes() -> Option<u64> {
    read_mem_total()
}

#[cfg(target_os = "linux")]
fn read_mem_total() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_status_kib(&meminfo, "MemTotal:").map(|kib| kib * 1024)
}

#[cfg(not(target_os = "linux"))]
fn read_mem_total() -> Option<u64> {
    None
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status_lines() {
        let status = "Name:\tsluice\nVmHWM:\t  123456 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(123456));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn parses_the_total_from_proc_meminfo() {
        let meminfo = "MemTotal:       16318480 kB\nMemFree:         1234567 kB\nMemAvailable:    9876543 kB\n";
        assert_eq!(parse_status_kib(meminfo, "MemTotal:"), Some(16_318_480));
        assert_eq!(parse_status_kib("MemFree: 1 kB\n", "MemTotal:"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reports_the_machines_memory_on_linux() {
        assert!(total_memory_bytes().unwrap_or(0) > 0);
    }

    #[test]
    fn reports_some_memory_for_this_process() {
        assert!(current_rss_bytes().unwrap_or(0) > 0);
        assert!(peak_rss_bytes().unwrap_or(0) >= current_rss_bytes().unwrap_or(0) / 2);
    }
}

/// One reading of memory use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MemorySample {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The process's resident memory in bytes, where it can be read.
    pub rss_bytes: Option<u64>,
    /// Memory DuckDB's buffer manager reports in use, where it reports it.
    pub duckdb_bytes: Option<u64>,
}

/// The most recent samples, oldest first; the oldest are dropped beyond the capacity.
#[derive(Clone, Debug)]
pub struct MemoryHistory {
    samples: std::collections::VecDeque<MemorySample>,
    capacity: usize,
}

impl MemoryHistory {
    /// An empty history that keeps the `capacity` newest samples (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            samples: std::collections::VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
        }
    }

    /// Adds `sample`, dropping the oldest one when the history is full.
    pub fn push(&mut self, sample: MemorySample) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// The samples kept, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = &MemorySample> {
        self.samples.iter()
    }

    /// The newest sample, if there is one.
    pub fn latest(&self) -> Option<&MemorySample> {
        self.samples.back()
    }

    /// How many samples are kept.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether no sample has been kept yet.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;

    #[test]
    fn keeps_only_the_newest_samples() {
        let mut history = MemoryHistory::new(3);
        for at_ms in 0..5 {
            history.push(MemorySample {
                at_ms,
                ..MemorySample::default()
            });
        }
        let kept: Vec<i64> = history.samples().map(|s| s.at_ms).collect();
        assert_eq!(kept, [2, 3, 4]);
        assert_eq!(history.latest().map(|s| s.at_ms), Some(4));
    }
}
