//! The Memory view: process and DuckDB memory now (the process against the same budget as the
//! status bar's gauge, DuckDB against its limit), their last ten minutes on a plot with job
//! starts and ends marked, and the settings that bound them.

use egui::{Color32, RichText, Ui};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints, VLine};
use sluice::memory::MemoryHistory;

use super::command::ViewContext;
use super::jobs_view::JobsView;
use super::memory_budget::{MemoryBudget, gauge_fill, parse_size, process_gauge};
use super::reads::LoadRequest;
use super::settings::{DEFAULT_MEMORY_LIMIT, workers_edit};
use crate::format::mebibytes;

/// How far back the plot looks.
const WINDOW_SECS: f64 = 600.0;

/// DuckDB's memory limit as DuckDB reports it ("1.5 GiB"), read once and after each change.
#[derive(Default)]
pub struct MemoryView {
    pub duckdb_limit: Option<String>,
}

impl MemoryView {
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        memory: &MemoryHistory,
        jobs: &JobsView,
        budget: Option<&MemoryBudget>,
        cx: &mut ViewContext<'_>,
    ) {
        let settings = &mut *cx.settings;
        let mut apply = None;
        let latest = memory.latest().copied().unwrap_or_default();
        ui.heading("Memory");
        egui::Grid::new("memory-gauges")
            .num_columns(3)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                ui.label("Process (RSS)");
                ui.strong(latest.rss_bytes.map_or_else(|| "–".into(), mebibytes));
                process_gauge(ui, &latest, self.duckdb_limit.as_deref(), budget, 260.0, true);
                ui.end_row();

                ui.label("DuckDB");
                ui.strong(latest.duckdb_bytes.map_or_else(|| "–".into(), mebibytes));
                let limit_bytes = self.duckdb_limit.as_deref().and_then(parse_size);
                match (latest.duckdb_bytes, limit_bytes) {
                    (Some(used), Some(limit)) if limit > 0 => {
                        let fraction = used as f32 / limit as f32;
                        let mut bar = egui::ProgressBar::new(fraction).desired_width(260.0).text(format!(
                            "of its limit {}",
                            self.duckdb_limit.clone().unwrap_or_default()
                        ));
                        if let Some(fill) = gauge_fill(fraction) {
                            bar = bar.fill(fill);
                        }
                        ui.add(bar);
                    }
                    _ => {
                        ui.label(RichText::new("limit unknown").weak());
                    }
                }
                ui.end_row();
            });
        ui.add_space(6.0);
        history_plot(ui, memory, jobs, latest.at_ms);
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let label = ui.label("DuckDB memory limit");
            ui.add(
                egui::TextEdit::singleline(&mut settings.memory_limit)
                    .hint_text(format!("{DEFAULT_MEMORY_LIMIT} (default)"))
                    .desired_width(100.0),
            )
            .labelled_by(label.id);
            if ui
                .add_enabled(settings.memory_limit().is_some(), egui::Button::new("Apply now"))
                .on_hover_text("DuckDB evicts cached blocks down to the new limit; it is also kept for the next start")
                .clicked()
                && let Some(limit) = settings.memory_limit()
            {
                apply = Some(limit);
            }
            ui.separator();
            let label = ui.label("Workers");
            workers_edit(ui, settings, label.id);
        });
        if let Some(limit) = apply {
            cx.load(LoadRequest::SetMemoryLimit(limit));
        }
    }
}

/// Jobs whose start and end are marked on the plot, the most recent first. Each mark is a dashed
/// line of a hundred or so shapes; hundreds of small jobs in the plotted minutes would be a wall
/// of lines that says nothing and costs megabytes a frame.
const MAX_JOB_MARKS: usize = 40;

fn history_plot(ui: &mut Ui, memory: &MemoryHistory, jobs: &JobsView, now_ms: i64) {
    let seconds_ago = |at_ms: i64| (at_ms - now_ms) as f64 / 1000.0;
    // Job marks from before the first sample (earlier runs) would only stretch the time axis.
    let first_sample_ms = memory.samples().map(|s| s.at_ms).min().unwrap_or(now_ms);
    let in_window = |at_ms: i64| seconds_ago(at_ms) >= -WINDOW_SECS && at_ms >= first_sample_ms;
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let rss: PlotPoints = memory
        .samples()
        .filter(|s| in_window(s.at_ms))
        .filter_map(|s| s.rss_bytes.map(|bytes| [seconds_ago(s.at_ms), mib(bytes)]))
        .collect();
    let duckdb: PlotPoints = memory
        .samples()
        .filter(|s| in_window(s.at_ms))
        .filter_map(|s| s.duckdb_bytes.map(|bytes| [seconds_ago(s.at_ms), mib(bytes)]))
        .collect();
    Plot::new("memory-history")
        .height((ui.available_height() - 40.0).max(160.0))
        .legend(Legend::default())
        .x_axis_label("seconds ago")
        .y_axis_label("MiB")
        .include_y(0.0)
        .include_x(-60.0)
        .include_x(0.0)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(
                Line::new("process", rss)
                    .color(Color32::from_rgb(80, 160, 230))
                    .width(2.0),
            );
            plot.line(
                Line::new("DuckDB", duckdb)
                    .color(Color32::from_rgb(230, 160, 0))
                    .width(2.0),
            );
            let recent_spans = jobs
                .time_spans()
                .rev()
                .filter(|(started, finished)| started.or(*finished).is_some_and(in_window))
                .take(MAX_JOB_MARKS);
            for (started, finished) in recent_spans {
                if let Some(started) = started.filter(|at| in_window(*at)) {
                    plot.vline(
                        VLine::new("job start", seconds_ago(started))
                            .color(Color32::from_rgb(60, 170, 90))
                            .style(LineStyle::dashed_loose()),
                    );
                }
                if let Some(finished) = finished.filter(|at| in_window(*at)) {
                    plot.vline(
                        VLine::new("job end", seconds_ago(finished))
                            .color(Color32::from_rgb(150, 150, 150))
                            .style(LineStyle::dashed_loose()),
                    );
                }
            }
        });
}
