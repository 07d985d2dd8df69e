//! The window's reader thread: everything the window needs from disk or DuckDB (sniffing a file,
//! pages of failed rows, the job history) is asked for here and answered over a channel, so no
//! drawing code ever waits on I/O.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};
use sluice::browse::{BrowseQuery, BrowseRow, PageIndex, index_pages, read_page};
use sluice::export::{ExportPreview, ExportRequest, preview_export};
use sluice::import::{SchemaFile, SniffHints, Sniffed, sniff};
use sluice::store::{
    FailedRowFilter, JobRecord, ReportFormat, Store, StoredFailedRow, TableInfo, describe_tables, list_jobs,
    problem_column_counts, problem_counts, read_failed_rows, write_failed_report,
};

/// What the window asks for.
#[derive(Debug)]
pub enum LoadRequest {
    Sniff {
        path: PathBuf,
        hints: SniffHints,
    },
    FailedSummary {
        job_id: i64,
        filter: FailedRowFilter,
        generation: u64,
    },
    FailedPage {
        job_id: i64,
        filter: FailedRowFilter,
        page: u64,
        generation: u64,
    },
    Jobs,
    /// The user's tables, with columns and row counts.
    Tables,
    WriteReport {
        job_id: i64,
        path: PathBuf,
    },
    LoadSchema {
        path: PathBuf,
    },
    SaveSchema {
        path: PathBuf,
        schema: SchemaFile,
    },
    /// The count and first rows an export would write.
    ExportPreview {
        generation: u64,
        request: Box<ExportRequest>,
    },
    /// Where each page of a browsed table starts.
    BrowseIndex {
        generation: u64,
        query: BrowseQuery,
    },
    BrowsePage {
        generation: u64,
        index: Arc<PageIndex>,
        page: u64,
    },
    /// DuckDB's memory limit as it stands.
    MemoryLimit,
    /// Changes DuckDB's memory limit for this run.
    SetMemoryLimit(String),
}

impl LoadRequest {
    /// Requests whose answer a newer request of the same kind makes useless.
    fn superseded_by(&self, newer: &LoadRequest) -> bool {
        match (self, newer) {
            (Self::ExportPreview { .. }, Self::ExportPreview { .. }) => true,
            (Self::BrowseIndex { .. }, Self::BrowseIndex { .. }) => true,
            (Self::BrowsePage { generation, .. }, Self::BrowseIndex { generation: newer, .. }) => generation < newer,
            _ => false,
        }
    }
}

/// What comes back.
#[derive(Debug)]
pub enum Loaded {
    Sniffed {
        path: PathBuf,
        result: Result<Box<Sniffed>, String>,
    },
    FailedSummary(FailedSummary),
    FailedPage {
        generation: u64,
        page: u64,
        rows: Vec<StoredFailedRow>,
    },
    Jobs(Vec<JobRecord>),
    Tables(Vec<TableInfo>),
    Schema(SchemaFile),
    ExportPreview {
        generation: u64,
        result: Result<ExportPreview, String>,
    },
    BrowseIndex {
        generation: u64,
        result: Result<Arc<PageIndex>, String>,
    },
    BrowsePage {
        generation: u64,
        page: u64,
        result: Result<Vec<BrowseRow>, String>,
    },
    MemoryLimit(String),
    /// Something finished that the user should hear about.
    Done(String),
    Error(String),
}

/// The counts the Failed rows view shows above its table.
#[derive(Debug)]
pub struct FailedSummary {
    /// The view's read this answers.
    pub generation: u64,
    /// Rows matching the filter.
    pub total: u64,
    /// Rows with each kind of problem, and with a problem in each column (unfiltered).
    pub kinds: Vec<(String, u64)>,
    pub problem_columns: Vec<(String, u64)>,
    /// The file's column names.
    pub columns: Vec<String>,
}

/// Rows per page of failed rows.
pub const PAGE_ROWS: u64 = 200;
/// Rows per page when browsing a table.
pub const BROWSE_PAGE_ROWS: u64 = 200;
/// Rows an export preview shows.
pub const PREVIEW_ROWS: usize = 50;

pub struct Loader {
    requests: Option<Sender<LoadRequest>>,
    results: Receiver<Loaded>,
    thread: Option<JoinHandle<()>>,
}

impl Loader {
    /// Starts a reader thread called `name` on its own connection.
    pub fn start(name: &str, store: Store, wake: impl Fn() + Send + 'static) -> std::io::Result<Self> {
        let (requests, request_receiver) = bounded::<LoadRequest>(64);
        let (result_sender, results) = bounded(64);
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
            while let Ok(first) = request_receiver.recv() {
                // Take everything queued so far and skip what newer requests make useless (a
                // preview for a filter already changed again, pages of a sort already replaced).
                let mut batch = vec![first];
                batch.extend(request_receiver.try_iter());
                let keep: Vec<bool> = (0..batch.len())
                    .map(|index| !batch[index + 1..].iter().any(|newer| batch[index].superseded_by(newer)))
                    .collect();
                let wanted = batch
                    .into_iter()
                    .zip(keep)
                    .filter_map(|(request, keep)| keep.then_some(request));
                for request in wanted {
                    let loaded = load(&store, request);
                    if result_sender.send(loaded).is_err() {
                        return;
                    }
                    wake();
                }
            }
        })?;
        Ok(Self {
            requests: Some(requests),
            results,
            thread: Some(thread),
        })
    }

    /// Queues a request; a full queue drops it (the view asks again next frame).
    pub fn request(&self, request: LoadRequest) {
        if let Some(requests) = &self.requests {
            let _ = requests.try_send(request);
        }
    }

    pub fn try_recv(&self) -> Option<Loaded> {
        self.results.try_recv().ok()
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            while !thread.is_finished() {
                while self.results.try_recv().is_ok() {}
                std::thread::yield_now();
            }
            let _ = thread.join();
        }
    }
}

fn load(store: &Store, request: LoadRequest) -> Loaded {
    match request {
        LoadRequest::Sniff { path, hints } => {
            let result = sniff(&path, &hints).map(Box::new).map_err(|error| error.to_string());
            Loaded::Sniffed { path, result }
        }
        LoadRequest::FailedSummary {
            job_id,
            filter,
            generation,
        } => {
            let conn = store.conn();
            let summary = sluice::store::count_failed_rows(conn, job_id, &filter).and_then(|total| {
                Ok(FailedSummary {
                    generation,
                    total,
                    kinds: problem_counts(conn, job_id)?,
                    problem_columns: problem_column_counts(conn, job_id)?,
                    columns: sluice::store::get_job(conn, job_id)?
                        .map(|job| job.source_columns)
                        .unwrap_or_default(),
                })
            });
            match summary {
                Ok(summary) => Loaded::FailedSummary(summary),
                Err(error) => Loaded::Error(error.to_string()),
            }
        }
        LoadRequest::FailedPage {
            job_id,
            filter,
            page,
            generation,
        } => match read_failed_rows(store.conn(), job_id, &filter, page * PAGE_ROWS, PAGE_ROWS) {
            Ok(rows) => Loaded::FailedPage { generation, page, rows },
            Err(error) => Loaded::Error(error.to_string()),
        },
        LoadRequest::Jobs => match list_jobs(store.conn()) {
            Ok(jobs) => Loaded::Jobs(jobs),
            Err(error) => Loaded::Error(error.to_string()),
        },
        LoadRequest::Tables => match describe_tables(store.conn()) {
            Ok(tables) => Loaded::Tables(tables),
            Err(error) => Loaded::Error(error.to_string()),
        },
        LoadRequest::WriteReport { job_id, path } => match write_report(store, job_id, &path) {
            Ok(rows) => Loaded::Done(format!(
                "Wrote {rows} failed rows of job {job_id} to {}",
                path.display()
            )),
            Err(error) => Loaded::Error(format!("cannot write {}: {error}", path.display())),
        },
        LoadRequest::LoadSchema { path } => match SchemaFile::load(&path) {
            Ok(schema) => Loaded::Schema(schema),
            Err(error) => Loaded::Error(error.to_string()),
        },
        LoadRequest::SaveSchema { path, schema } => match std::fs::write(&path, schema.to_json_pretty()) {
            Ok(()) => Loaded::Done(format!("Saved the schema to {}", path.display())),
            Err(error) => Loaded::Error(format!("cannot write {}: {error}", path.display())),
        },
        LoadRequest::ExportPreview { generation, request } => Loaded::ExportPreview {
            generation,
            result: preview_export(store.conn(), &request, PREVIEW_ROWS).map_err(|error| error.to_string()),
        },
        LoadRequest::BrowseIndex { generation, query } => Loaded::BrowseIndex {
            generation,
            result: index_pages(store.conn(), &query, BROWSE_PAGE_ROWS)
                .map(Arc::new)
                .map_err(|error| error.to_string()),
        },
        LoadRequest::BrowsePage {
            generation,
            index,
            page,
        } => Loaded::BrowsePage {
            generation,
            page,
            result: read_page(store.conn(), &index, page).map_err(|error| error.to_string()),
        },
        LoadRequest::MemoryLimit => match current_memory_limit(store) {
            Ok(limit) => Loaded::MemoryLimit(limit),
            Err(error) => Loaded::Error(error.to_string()),
        },
        LoadRequest::SetMemoryLimit(limit) => {
            match sluice::store::set_memory_limit(store.conn(), &limit).and_then(|()| current_memory_limit(store)) {
                Ok(limit) => Loaded::MemoryLimit(limit),
                Err(error) => Loaded::Error(error.to_string()),
            }
        }
    }
}

fn current_memory_limit(store: &Store) -> Result<String, sluice::store::StoreError> {
    store
        .conn()
        .query_row("SELECT current_setting('memory_limit')", [], |row| row.get(0))
        .map_err(sluice::store::StoreError::query("reading DuckDB's memory limit"))
}

fn write_report(store: &Store, job_id: i64, path: &std::path::Path) -> Result<u64, String> {
    use std::io::Write;
    let file = std::fs::File::create(path).map_err(|error| error.to_string())?;
    let mut out = std::io::BufWriter::new(file);
    let rows =
        write_failed_report(store.conn(), job_id, ReportFormat::Csv, &mut out).map_err(|error| error.to_string())?;
    out.flush().map_err(|error| error.to_string())?;
    Ok(rows)
}
