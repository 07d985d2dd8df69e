//! Process memory readings, used for the peak figures in job summaries and benchmarks.

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

#[cfg(target_os = "linux")]
fn read_vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status_kib(&status, "VmHWM:").map(|kib| kib * 1024)
}

#[cfg(not(target_os = "linux"))]
fn read_vm_hwm() -> Option<u64> {
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
    fn reports_some_memory_for_this_process() {
        assert!(current_rss_bytes().unwrap_or(0) > 0);
        assert!(peak_rss_bytes().unwrap_or(0) >= current_rss_bytes().unwrap_or(0) / 2);
    }
}
