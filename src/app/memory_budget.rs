//! What the window's memory gauges measure the process against. DuckDB runs inside the process,
//! so the process's resident memory is DuckDB's plus the window's own; the budget is therefore
//! DuckDB's memory limit plus an allowance for the window, and never more than the machine has.
//! Measured against the highest reading so far instead, a gauge reads full almost all the time
//! and warns of nothing.

use egui::{Color32, RichText, Ui};
use sluice::memory::MemorySample;

use crate::format::mebibytes;

/// The window's own working set on top of DuckDB's limit: egui, the page caches, the engine's
/// batches in flight. A fixed allowance, since one process's memory cannot be split between
/// DuckDB and the rest by measuring; the window's part is small and steady next to DuckDB's.
pub const APP_ALLOWANCE_BYTES: u64 = 256 * 1024 * 1024;

/// Below this fraction of the budget the gauge keeps the theme's colour.
const AMBER_FROM: f32 = 0.7;
/// From this fraction the gauge is red.
const RED_FROM: f32 = 0.9;

/// How the budget was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetBasis {
    /// DuckDB's limit plus the window's allowance.
    DuckdbLimit,
    /// DuckDB's limit plus the allowance is more than the machine's RAM, which is the budget.
    CappedByRam,
    /// DuckDB's limit is not known (not read yet, or not a size): the machine's RAM.
    Ram,
}

/// The memory the process is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    pub bytes: u64,
    /// DuckDB's memory limit, when known.
    pub duckdb_limit: Option<u64>,
    /// The machine's RAM, when known.
    pub ram: Option<u64>,
    pub basis: BudgetBasis,
}

impl MemoryBudget {
    /// The budget from DuckDB's limit as DuckDB writes it ("19.2 GiB") and the machine's RAM;
    /// none when neither is known.
    pub fn new(duckdb_limit: Option<&str>, ram: Option<u64>) -> Option<Self> {
        let limit = duckdb_limit.and_then(parse_size).filter(|bytes| *bytes > 0);
        let ram = ram.filter(|bytes| *bytes > 0);
        let (bytes, basis) = match (limit, ram) {
            (Some(limit), Some(ram)) if ram < limit.saturating_add(APP_ALLOWANCE_BYTES) => {
                (ram, BudgetBasis::CappedByRam)
            }
            (Some(limit), _) => (limit.saturating_add(APP_ALLOWANCE_BYTES), BudgetBasis::DuckdbLimit),
            (None, Some(ram)) => (ram, BudgetBasis::Ram),
            (None, None) => return None,
        };
        Some(Self {
            bytes,
            duckdb_limit: limit,
            ram,
            basis,
        })
    }

    /// How much of the budget `used` bytes take, from 0 to 1.
    pub fn fraction(&self, used: u64) -> f32 {
        (used as f64 / self.bytes.max(1) as f64).clamp(0.0, 1.0) as f32
    }

    /// How the budget was made, in words.
    pub fn describe(&self) -> String {
        let allowance = mebibytes(APP_ALLOWANCE_BYTES);
        let limit = self.duckdb_limit.map_or_else(|| "–".to_string(), mebibytes);
        let ram = self.ram.map_or_else(|| "–".to_string(), mebibytes);
        match self.basis {
            BudgetBasis::DuckdbLimit => format!("DuckDB's limit {limit} + {allowance} for the window"),
            BudgetBasis::CappedByRam => {
                format!("the machine's RAM {ram}, less than DuckDB's limit {limit} + {allowance} for the window")
            }
            BudgetBasis::Ram => format!("the machine's RAM {ram}, as DuckDB's limit is not known"),
        }
    }
}

/// The gauge's colour at `fraction` of the budget: the theme's own (none) below 70%, amber to
/// 90%, red above.
pub fn gauge_fill(fraction: f32) -> Option<Color32> {
    if fraction >= RED_FROM {
        Some(Color32::from_rgb(220, 70, 60))
    } else if fraction >= AMBER_FROM {
        Some(Color32::from_rgb(230, 160, 0))
    } else {
        None
    }
}

/// A bar of the process's memory against `budget`, `width` wide, with every figure on hover;
/// `with_text` writes the share of the budget on the bar.
pub fn process_gauge(
    ui: &mut Ui,
    latest: &MemorySample,
    duckdb_limit: Option<&str>,
    budget: Option<&MemoryBudget>,
    width: f32,
    with_text: bool,
) {
    let figures = gauge_tooltip(latest, duckdb_limit, budget);
    let (Some(rss), Some(budget)) = (latest.rss_bytes, budget) else {
        let missing = if latest.rss_bytes.is_none() {
            "no reading yet"
        } else {
            "budget unknown"
        };
        ui.label(RichText::new(missing).weak()).on_hover_text(figures);
        return;
    };
    let fraction = budget.fraction(rss);
    let mut bar = egui::ProgressBar::new(fraction).desired_width(width);
    if with_text {
        bar = bar.text(gauge_text(rss, budget));
    }
    if let Some(fill) = gauge_fill(fraction) {
        bar = bar.fill(fill);
    }
    ui.add(bar).on_hover_text(figures);
}

/// "12% of the 1280.0 MiB budget": the share itself, which may pass 100%.
pub fn gauge_text(rss: u64, budget: &MemoryBudget) -> String {
    let percent = rss as f64 * 100.0 / budget.bytes.max(1) as f64;
    format!("{percent:.0}% of the {} budget", mebibytes(budget.bytes))
}

/// Every figure behind the gauge, one per line.
fn gauge_tooltip(latest: &MemorySample, duckdb_limit: Option<&str>, budget: Option<&MemoryBudget>) -> String {
    let shown = |bytes: Option<u64>| bytes.map_or_else(|| "–".to_string(), mebibytes);
    let budget_line = match budget {
        Some(budget) => format!("Budget: {} ({})", mebibytes(budget.bytes), budget.describe()),
        None => "Budget: unknown (neither DuckDB's limit nor the machine's RAM is known)".to_string(),
    };
    format!(
        "Process (RSS): {}\nDuckDB: {}\nDuckDB's limit: {}\n{budget_line}",
        shown(latest.rss_bytes),
        shown(latest.duckdb_bytes),
        duckdb_limit.unwrap_or("not read yet"),
    )
}

/// Bytes in a size as DuckDB writes it: "953.6 MiB", "1.0 GiB", "512MB".
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let multiplier: f64 = match unit.trim().to_ascii_uppercase().as_str() {
        "B" | "BYTES" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KIB" => 1024.0,
        "MIB" => 1024.0 * 1024.0,
        "GIB" => 1024.0 * 1024.0 * 1024.0,
        "TIB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((number * multiplier) as u64)
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;
    const GIB: u64 = 1024 * MIB;

    #[test]
    fn reads_sizes_as_duckdb_writes_them() {
        assert_eq!(parse_size("1.0 GiB"), Some(1 << 30));
        assert_eq!(parse_size("512MB"), Some(512_000_000));
        assert_eq!(parse_size("953.6 MiB"), Some((953.6 * 1048576.0) as u64));
        assert_eq!(parse_size("256.0 MiB"), Some(256 * MIB));
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn a_known_limit_makes_the_budget_with_the_windows_allowance() {
        let budget = MemoryBudget::new(Some("1.0 GiB"), Some(16 * GIB)).unwrap();
        assert_eq!(budget.bytes, GIB + APP_ALLOWANCE_BYTES);
        assert_eq!(budget.basis, BudgetBasis::DuckdbLimit);
        assert_eq!(budget.duckdb_limit, Some(GIB));
        // The RAM is not needed to make it.
        assert_eq!(
            MemoryBudget::new(Some("1.0 GiB"), None).map(|b| b.bytes),
            Some(GIB + APP_ALLOWANCE_BYTES)
        );
    }

    #[test]
    fn an_unknown_limit_leaves_the_machines_ram() {
        let budget = MemoryBudget::new(None, Some(8 * GIB)).unwrap();
        assert_eq!((budget.bytes, budget.basis), (8 * GIB, BudgetBasis::Ram));
        assert_eq!(MemoryBudget::new(None, None), None);
    }

    #[test]
    fn an_unparsable_limit_counts_as_unknown() {
        let budget = MemoryBudget::new(Some("unlimited"), Some(8 * GIB)).unwrap();
        assert_eq!((budget.bytes, budget.basis), (8 * GIB, BudgetBasis::Ram));
        assert_eq!(budget.duckdb_limit, None);
        let zero = MemoryBudget::new(Some("0 bytes"), Some(8 * GIB)).unwrap();
        assert_eq!(zero.basis, BudgetBasis::Ram);
    }

    #[test]
    fn ram_smaller_than_the_limit_caps_the_budget() {
        let budget = MemoryBudget::new(Some("19.2 GiB"), Some(4 * GIB)).unwrap();
        assert_eq!((budget.bytes, budget.basis), (4 * GIB, BudgetBasis::CappedByRam));
        assert!(budget.describe().contains("RAM 4096.0 MiB"), "{}", budget.describe());
    }

    #[test]
    fn the_gauge_is_not_full_when_the_process_is_at_its_highest_so_far() {
        // Measured against the peak, the latest reading of a process that only grew was 100%.
        let rss = 300 * MIB;
        let budget = MemoryBudget::new(Some("1.0 GiB"), Some(16 * GIB)).unwrap();
        let fraction = budget.fraction(rss);
        assert!((fraction - 300.0 / 1280.0).abs() < 1e-4, "{fraction}");
        assert_eq!(gauge_fill(fraction), None);
        assert_eq!(gauge_text(rss, &budget), "23% of the 1280.0 MiB budget");
    }

    #[test]
    fn the_gauge_turns_amber_then_red_near_the_budget() {
        assert_eq!(gauge_fill(0.69), None);
        assert_eq!(gauge_fill(0.75), Some(Color32::from_rgb(230, 160, 0)));
        assert_eq!(gauge_fill(0.95), Some(Color32::from_rgb(220, 70, 60)));
        let budget = MemoryBudget::new(Some("1.0 GiB"), None).unwrap();
        assert!(budget.fraction(10 * GIB) >= 1.0, "the bar stops at full");
        assert_eq!(gauge_text(2560 * MIB, &budget), "200% of the 1280.0 MiB budget");
    }
}
