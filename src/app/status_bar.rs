//! The status bar: a compact memory gauge, process and DuckDB, from the engine's samples. The
//! gauge measures the process against the budget of [`super::memory_budget`], which the Memory
//! view uses too.

use egui::Ui;
use sluice::memory::MemorySample;

use super::memory_budget::{MemoryBudget, process_gauge};
use crate::format::mebibytes;

pub struct StatusBar {
    /// The newest sample; the history is the engine's, read by the Memory view.
    pub latest: MemorySample,
    /// The machine's RAM, read once: it does not change while the window is open.
    pub total_ram: Option<u64>,
}

impl Default for StatusBar {
    fn default() -> Self {
        Self {
            latest: MemorySample::default(),
            total_ram: sluice::memory::total_memory_bytes(),
        }
    }
}

impl StatusBar {
    pub fn record(&mut self, sample: MemorySample) {
        self.latest = sample;
    }

    /// The budget the process is measured against, given DuckDB's limit as DuckDB writes it.
    pub fn budget(&self, duckdb_limit: Option<&str>) -> Option<MemoryBudget> {
        MemoryBudget::new(duckdb_limit, self.total_ram)
    }

    pub fn ui(&self, ui: &mut Ui, database: &str, active_jobs: usize, duckdb_limit: Option<&str>) {
        ui.horizontal(|ui| {
            let latest = self.latest;
            let process = latest.rss_bytes.map_or_else(|| "–".to_string(), mebibytes);
            let duckdb = latest.duckdb_bytes.map_or_else(|| "–".to_string(), mebibytes);
            ui.label(format!("Memory: process {process} · DuckDB {duckdb}"));
            let budget = self.budget(duckdb_limit);
            process_gauge(ui, &latest, duckdb_limit, budget.as_ref(), 80.0, false);
            ui.separator();
            ui.label(format!("{active_jobs} active job(s)"));
            ui.separator();
            ui.label(format!("Database: {database}"));
        });
    }
}
