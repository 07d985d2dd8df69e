//! The status bar: a compact memory gauge, process and DuckDB, from the engine's samples.

use egui::Ui;
use sluice::memory::{MemoryHistory, MemorySample};

use crate::format::mebibytes;

pub struct StatusBar {
    pub memory: MemoryHistory,
}

impl Default for StatusBar {
    fn default() -> Self {
        Self {
            memory: MemoryHistory::new(2400),
        }
    }
}

impl StatusBar {
    pub fn record(&mut self, sample: MemorySample) {
        self.memory.push(sample);
    }

    pub fn ui(&self, ui: &mut Ui, database: &str, active_jobs: usize) {
        ui.horizontal(|ui| {
            let latest = self.memory.latest().copied().unwrap_or_default();
            let process = latest.rss_bytes.map_or_else(|| "–".to_string(), mebibytes);
            let duckdb = latest.duckdb_bytes.map_or_else(|| "–".to_string(), mebibytes);
            ui.label(format!("Memory: process {process} · DuckDB {duckdb}"));
            let peak = self
                .memory
                .samples()
                .filter_map(|s| s.rss_bytes)
                .max()
                .unwrap_or(1)
                .max(1);
            let fraction = latest.rss_bytes.unwrap_or(0) as f32 / peak as f32;
            ui.add(egui::ProgressBar::new(fraction).desired_width(80.0));
            ui.separator();
            ui.label(format!("{active_jobs} active job(s)"));
            ui.separator();
            ui.label(format!("Database: {database}"));
        });
    }
}
