//! The window's reader thread: everything the window needs from disk or DuckDB (sniffing a file,
//! pages of failed rows, the job history) is asked for here and answered over a channel, so no
//! drawing code ever waits on I/O.
//!
//! No request is lost without someone knowing. The queue to the thread is bounded, so the frame
//! never blocks on it; when it is full, a request a person is waiting on (a report, a schema, a
//! memory limit, a summary) waits in the loader's outbox and goes with a later [`Loader::pump`],
//! while a page or preview, which its view asks for again, is given back by
//! [`Loader::try_request`] so the view can forget it asked. An answer names the request it
//! answers, errors included, so a view can clear what it marked as on its way.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use sluice::browse::{BrowseQuery, BrowseRow, PageIndex, index_pages, read_page};
use sluice::engine::JobRecord;
use sluice::export::{ExportPreview, ExportRequest, preview_export};
use sluice::import::{SchemaFile, SniffHints, Sniffed, sniff};
use sluice::store::{
    FailedRowFilter, ReportFormat, Store, StoredFailedRow, TableInfo, describe_tables, failed_page_starts,
    problem_column_counts, problem_counts, read_failed_rows, write_failed_report,
};

/// What the window asks for.
#[derive(Debug)]
pub enum LoadRequest {
    /// The files a drop, a dialog or the command line named, with folders opened and patterns
    /// matched: file-system work, so off the window's thread.
    ExpandInputs {
        paths: Vec<PathBuf>,
    },
    Sniff {
        path: PathBuf,
        /// Boxed: the largest request by far, and requests wait in queues.
        hints: Box<SniffHints>,
    },
    FailedSummary {
        job_id: i64,
        filter: FailedRowFilter,
        generation: u64,
    },
    /// Page `page` of the failed rows: those from record `start` up to (not including) record
    /// `next_start`, the next page's start (none for the last page).
    FailedPage {
        job_id: i64,
        filter: FailedRowFilter,
        page: u64,
        start: i64,
        next_start: Option<i64>,
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
    /// Reads that may take a while on a big table, kept off the quick reads' thread.
    pub fn is_slow(&self) -> bool {
        matches!(
            self,
            Self::ExportPreview { .. }
                | Self::BrowseIndex { .. }
                | Self::BrowsePage { .. }
                | Self::MemoryLimit
                | Self::SetMemoryLimit(_)
        )
    }

    /// Reads whose view asks for them again while they are still wanted.
    pub fn is_asked_again(&self) -> bool {
        matches!(
            self,
            Self::FailedPage { .. } | Self::ExportPreview { .. } | Self::BrowseIndex { .. } | Self::BrowsePage { .. }
        )
    }

    /// Requests whose answer a newer request of the same kind makes useless.
    fn superseded_by(&self, newer: &LoadRequest) -> bool {
        match (self, newer) {
            (Self::ExportPreview { .. }, Self::ExportPreview { .. }) => true,
            (Self::BrowseIndex { .. }, Self::BrowseIndex { .. }) => true,
            (Self::BrowsePage { generation, .. }, Self::BrowseIndex { generation: newer, .. }) => generation < newer,
            _ => false,
        }
    }

    /// Reads that answer the same whichever of two identical requests runs, so one waiting is
    /// enough.
    fn same_read(&self, other: &LoadRequest) -> bool {
        matches!(
            (self, other),
            (Self::Jobs, Self::Jobs) | (Self::Tables, Self::Tables) | (Self::MemoryLimit, Self::MemoryLimit)
        )
    }
}

/// A page of rows read for a paged view (failed rows, Browse), with the view generation and page
/// it answers, so a view drops pages of a query it no longer shows.
#[derive(Debug)]
pub struct PageAnswer<Row> {
    pub generation: u64,
    pub page: u64,
    pub result: Result<Vec<Row>, String>,
}

/// What comes back.
#[derive(Debug)]
pub enum Loaded {
    /// The files of [`LoadRequest::ExpandInputs`]; `folder` when the one path named was a folder.
    Inputs {
        paths: Vec<PathBuf>,
        folder: bool,
        result: Result<Vec<PathBuf>, String>,
    },
    Sniffed {
        path: PathBuf,
        result: Result<Box<Sniffed>, String>,
    },
    FailedSummary {
        generation: u64,
        result: Result<FailedSummary, String>,
    },
    FailedPage(PageAnswer<StoredFailedRow>),
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
    BrowsePage(PageAnswer<BrowseRow>),
    MemoryLimit(String),
    /// Something finished that the user should hear about.
    Done(String),
    /// A request failed that nothing on screen waits on (the job history, the tables, a report,
    /// a schema, the memory limit): the user hears about it, nothing else changes.
    Error(String),
}

/// The counts the Failed rows view shows above its table, and where its pages start.
#[derive(Debug)]
pub struct FailedSummary {
    /// Rows matching the filter.
    pub total: u64,
    /// The record number each page of [`PAGE_ROWS`] matching rows starts at, in file order: a
    /// page is read by key from its start to the next, never by OFFSET.
    pub page_starts: Arc<Vec<i64>>,
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

/// Requests queued for the reader thread at most; beyond this they wait (see the module doc).
const QUEUE_CAPACITY: usize = 64;

pub struct Loader {
    requests: Option<Sender<LoadRequest>>,
    /// Requests that must reach the thread but found the queue full, oldest first.
    outbox: VecDeque<LoadRequest>,
    results: Receiver<Loaded>,
    thread: Option<JoinHandle<()>>,
}

impl Loader {
    /// Starts a reader thread called `name` on its own connection.
    pub fn start(name: &str, store: Store, wake: impl Fn() + Send + 'static) -> std::io::Result<Self> {
        let (requests, request_receiver) = bounded::<LoadRequest>(QUEUE_CAPACITY);
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
            outbox: VecDeque::new(),
            results,
            thread: Some(thread),
        })
    }

    /// A loader with no thread behind a queue of `capacity`, and the queue's far end, so a test
    /// can fill the queue and make room in it at will.
    #[cfg(test)]
    pub fn unstarted(capacity: usize) -> (Self, Receiver<LoadRequest>) {
        let (requests, request_receiver) = bounded(capacity);
        let (_, results) = bounded(1);
        let loader = Self {
            requests: Some(requests),
            outbox: VecDeque::new(),
            results,
            thread: None,
        };
        (loader, request_receiver)
    }

    /// Queues a request someone waits on; it is never dropped: with the queue full it waits in
    /// the outbox, behind any already waiting, and goes with a later [`Self::pump`].
    pub fn request(&mut self, request: LoadRequest) {
        self.pump();
        // The same read already waiting would bring the same answer.
        if self.outbox.iter().any(|waiting| waiting.same_read(&request)) {
            return;
        }
        if !self.outbox.is_empty() {
            self.outbox.push_back(request);
            return;
        }
        if let Some(request) = self.send_or_give_back(request) {
            self.outbox.push_back(request);
        }
    }

    /// Queues a request its view asks for again when it is still wanted (a page, a preview).
    /// With the queue full it is given back: the view must forget it asked, or it would wait
    /// for an answer that never comes.
    pub fn try_request(&mut self, request: LoadRequest) -> Result<(), LoadRequest> {
        match self.send_or_give_back(request) {
            Some(request) => Err(request),
            None => Ok(()),
        }
    }

    /// Sends what waits in the outbox, as far as the queue has room.
    pub fn pump(&mut self) {
        while let Some(request) = self.outbox.pop_front() {
            if let Some(request) = self.send_or_give_back(request) {
                self.outbox.push_front(request);
                break;
            }
        }
    }

    /// Whether requests wait in the outbox for room in the queue.
    pub fn backed_up(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// Queues `request`, or gives it back when the queue is full. A loader whose thread is gone
    /// answers nothing, now or later, so what is sent to it is dropped, not given back.
    fn send_or_give_back(&self, request: LoadRequest) -> Option<LoadRequest> {
        let requests = self.requests.as_ref()?;
        match requests.try_send(request) {
            Err(TrySendError::Full(request)) => Some(request),
            Ok(()) | Err(TrySendError::Disconnected(_)) => None,
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
        LoadRequest::ExpandInputs { paths } => {
            let folder = matches!(paths.as_slice(), [one] if one.is_dir());
            let result = sluice::import::expand_inputs(&paths)
                .map(|inputs| inputs.files)
                .map_err(|error| error.to_string());
            Loaded::Inputs { paths, folder, result }
        }
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
                    total,
                    page_starts: Arc::new(failed_page_starts(conn, job_id, &filter, PAGE_ROWS)?),
                    kinds: problem_counts(conn, job_id)?,
                    problem_columns: problem_column_counts(conn, job_id)?,
                    columns: store.job(job_id)?.map(|job| job.source_columns).unwrap_or_default(),
                })
            });
            Loaded::FailedSummary {
                generation,
                result: summary.map_err(|error| error.to_string()),
            }
        }
        LoadRequest::FailedPage {
            job_id,
            filter,
            page,
            start,
            next_start,
            generation,
        } => Loaded::FailedPage(PageAnswer {
            generation,
            page,
            result: read_failed_rows(store.conn(), job_id, &filter, start, next_start, PAGE_ROWS)
                .map_err(|error| error.to_string()),
        }),
        LoadRequest::Jobs => match sluice::engine::jobs(store) {
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
        } => Loaded::BrowsePage(PageAnswer {
            generation,
            page,
            result: read_page(store.conn(), &index, page).map_err(|error| error.to_string()),
        }),
        LoadRequest::MemoryLimit => match store.memory_limit() {
            Ok(limit) => Loaded::MemoryLimit(limit),
            Err(error) => Loaded::Error(error.to_string()),
        },
        LoadRequest::SetMemoryLimit(limit) => {
            match store.set_memory_limit(&limit).and_then(|()| store.memory_limit()) {
                Ok(limit) => Loaded::MemoryLimit(limit),
                Err(error) => Loaded::Error(error.to_string()),
            }
        }
    }
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

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn page(page: u64) -> LoadRequest {
        LoadRequest::FailedPage {
            job_id: 1,
            filter: FailedRowFilter::default(),
            page,
            start: 1,
            next_start: None,
            generation: 1,
        }
    }

    #[test]
    fn a_full_queue_gives_a_page_back_and_keeps_a_user_action_until_there_is_room() {
        let (mut loader, queue) = Loader::unstarted(1);
        loader.request(LoadRequest::Jobs);
        assert!(!loader.backed_up(), "the queue had room");

        match loader.try_request(page(3)) {
            Err(LoadRequest::FailedPage { page: 3, .. }) => {}
            other => panic!("the page should come back, got {other:?}"),
        }
        loader.request(LoadRequest::WriteReport {
            job_id: 7,
            path: PathBuf::from("report.csv"),
        });
        assert!(loader.backed_up(), "the report waits for room");
        loader.pump();
        assert!(loader.backed_up(), "still no room");

        assert!(matches!(queue.try_recv(), Ok(LoadRequest::Jobs)));
        assert!(queue.try_recv().is_err());
        loader.pump();
        assert!(!loader.backed_up());
        assert!(matches!(
            queue.try_recv(),
            Ok(LoadRequest::WriteReport { job_id: 7, .. })
        ));
    }

    #[test]
    fn requests_waiting_for_room_keep_their_order_and_a_repeated_read_waits_once() {
        let (mut loader, queue) = Loader::unstarted(1);
        loader.request(LoadRequest::Jobs);
        loader.request(LoadRequest::Tables);
        loader.request(LoadRequest::SetMemoryLimit("1GB".into()));
        loader.request(LoadRequest::Tables);
        let mut delivered = Vec::new();
        while let Ok(request) = queue.try_recv() {
            delivered.push(format!("{request:?}"));
            loader.pump();
        }
        assert_eq!(delivered, ["Jobs", "Tables", "SetMemoryLimit(\"1GB\")"]);
        assert!(!loader.backed_up());
    }
}
