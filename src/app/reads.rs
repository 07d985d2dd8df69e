//! What the window asks its reader threads for, and what comes back: each view's reads typed on
//! their own (the import's files, the failed rows, the export preview, Browse's pages), so a new
//! read touches its view and this module only. [`read`] answers a request; it runs on a reader
//! thread (`loader`), never on the window's.

use std::path::PathBuf;
use std::sync::Arc;

use sluice::browse::{BrowseQuery, BrowseRow, PageIndex, index_pages, read_page};
use sluice::engine::JobRecord;
use sluice::export::{ExportPreview, ExportRequest, preview_export};
use sluice::import::{FixPreview, FixRule, Recipe, SchemaFile, SniffHints, Sniffed, preview_fix, sniff};
use sluice::progress::CancelToken;
use sluice::store::{
    FailedGroup, FailedRowFilter, ReportFormat, Store, StoredFailedRow, TableInfo, describe_tables, failed_groups,
    failed_page_starts, problem_column_counts, problem_counts, read_failed_rows, write_failed_report,
};

/// What the window asks for.
#[derive(Debug)]
pub enum LoadRequest {
    Import(ImportRead),
    Failed(FailedRead),
    Export(ExportRead),
    Browse(BrowseRead),
    Jobs,
    /// The user's tables, with columns and row counts.
    Tables,
    /// The recipes kept in the database, for the import's picker.
    Recipes,
    /// DuckDB's memory limit as it stands.
    MemoryLimit,
    /// Changes DuckDB's memory limit for this run.
    SetMemoryLimit(String),
}

/// The import view's reads: its files, their sniff, and schema files.
#[derive(Debug)]
pub enum ImportRead {
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
    LoadSchema {
        path: PathBuf,
    },
    SaveSchema {
        path: PathBuf,
        schema: SchemaFile,
    },
}

/// The Failed rows view's reads.
#[derive(Debug)]
pub enum FailedRead {
    Summary {
        job_id: i64,
        filter: Box<FailedRowFilter>,
        generation: u64,
    },
    /// Page `page` of the failed rows: those from record `start` up to (not including) record
    /// `next_start`, the next page's start (none for the last page).
    Page {
        job_id: i64,
        filter: Box<FailedRowFilter>,
        page: u64,
        start: i64,
        next_start: Option<i64>,
        generation: u64,
    },
    /// The job's failed rows written as a CSV report to `path`.
    Report { job_id: i64, path: PathBuf },
    /// What `rule` would do to every row `filter` shows, changing nothing; `cancel` stops it.
    PreviewFix {
        job_id: i64,
        filter: Box<FailedRowFilter>,
        rule: Box<FixRule>,
        generation: u64,
        cancel: CancelToken,
    },
    /// `rule` added to the end of recipe `recipe`.
    KeepInRecipe { recipe: String, rule: Box<FixRule> },
}

/// The Export view's reads.
#[derive(Debug)]
pub enum ExportRead {
    /// The count and first rows an export would write.
    Preview {
        generation: u64,
        request: Box<ExportRequest>,
    },
}

/// Browse's reads.
#[derive(Debug)]
pub enum BrowseRead {
    /// Where each page of a browsed table starts.
    Index { generation: u64, query: BrowseQuery },
    Page {
        generation: u64,
        index: Arc<PageIndex>,
        page: u64,
    },
}

impl LoadRequest {
    /// Reads that may take a while on a big table, kept off the quick reads' thread.
    pub fn is_slow(&self) -> bool {
        matches!(
            self,
            Self::Export(_)
                | Self::Browse(_)
                | Self::MemoryLimit
                | Self::SetMemoryLimit(_)
                | Self::Failed(FailedRead::PreviewFix { .. })
        )
    }

    /// Reads whose view asks for them again while they are still wanted.
    pub fn is_asked_again(&self) -> bool {
        matches!(
            self,
            Self::Failed(FailedRead::Page { .. }) | Self::Export(_) | Self::Browse(_)
        )
    }

    /// Requests whose answer a newer request of the same kind makes useless.
    pub fn superseded_by(&self, newer: &LoadRequest) -> bool {
        match (self, newer) {
            (Self::Export(ExportRead::Preview { .. }), Self::Export(ExportRead::Preview { .. })) => true,
            (Self::Browse(BrowseRead::Index { .. }), Self::Browse(BrowseRead::Index { .. })) => true,
            (
                Self::Browse(BrowseRead::Page { generation, .. }),
                Self::Browse(BrowseRead::Index { generation: newer, .. }),
            ) => generation < newer,
            _ => false,
        }
    }

    /// Reads that answer the same whichever of two identical requests runs, so one waiting is
    /// enough.
    pub fn same_read(&self, other: &LoadRequest) -> bool {
        matches!(
            (self, other),
            (Self::Jobs, Self::Jobs)
                | (Self::Tables, Self::Tables)
                | (Self::Recipes, Self::Recipes)
                | (Self::MemoryLimit, Self::MemoryLimit)
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
    Import(ImportAnswer),
    Failed(FailedAnswer),
    Export(ExportAnswer),
    Browse(BrowseAnswer),
    Jobs(Vec<JobRecord>),
    Tables(Vec<TableInfo>),
    Recipes(Vec<Recipe>),
    MemoryLimit(String),
    /// Something finished that the user should hear about.
    Done(String),
    /// A request failed that nothing on screen waits on (the job history, the tables, a report,
    /// a schema, the memory limit): the user hears about it, nothing else changes.
    Error(String),
}

/// Answers to the import view's reads.
#[derive(Debug)]
pub enum ImportAnswer {
    /// The files of [`ImportRead::ExpandInputs`]; `folder` when the one path named was a folder.
    Inputs {
        paths: Vec<PathBuf>,
        folder: bool,
        result: Result<Vec<PathBuf>, String>,
    },
    Sniffed {
        path: PathBuf,
        result: Result<Box<Sniffed>, String>,
    },
    Schema(SchemaFile),
}

/// Answers to the Failed rows view's reads.
#[derive(Debug)]
pub enum FailedAnswer {
    Summary {
        generation: u64,
        result: Result<FailedSummary, String>,
    },
    Page(PageAnswer<StoredFailedRow>),
    /// A fix's preview, for the rule it ran.
    Preview {
        generation: u64,
        rule: Box<FixRule>,
        result: Result<FixPreview, String>,
    },
}

/// Answers to the Export view's reads.
#[derive(Debug)]
pub enum ExportAnswer {
    Preview {
        generation: u64,
        result: Result<ExportPreview, String>,
    },
}

/// Answers to Browse's reads.
#[derive(Debug)]
pub enum BrowseAnswer {
    Index {
        generation: u64,
        result: Result<Arc<PageIndex>, String>,
    },
    Page(PageAnswer<BrowseRow>),
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
    /// The failed rows grouped by what is wrong with them (unfiltered).
    pub groups: Vec<FailedGroup>,
    /// The file's column names.
    pub columns: Vec<String>,
}

/// Rows per page of failed rows.
pub const PAGE_ROWS: u64 = 200;
/// Rows per page when browsing a table.
pub const BROWSE_PAGE_ROWS: u64 = 200;
/// Rows an export preview shows.
pub const PREVIEW_ROWS: usize = 50;

/// Answers `request` from `store`. Runs on a reader thread.
pub fn read(store: &Store, request: LoadRequest) -> Loaded {
    match request {
        LoadRequest::Import(read) => read_import(read),
        LoadRequest::Failed(read) => read_failed(store, read),
        LoadRequest::Export(ExportRead::Preview { generation, request }) => Loaded::Export(ExportAnswer::Preview {
            generation,
            result: preview_export(store.conn(), &request, PREVIEW_ROWS).map_err(|error| error.to_string()),
        }),
        LoadRequest::Browse(read) => Loaded::Browse(read_browse(store, read)),
        LoadRequest::Jobs => match sluice::engine::jobs(store) {
            Ok(jobs) => Loaded::Jobs(jobs),
            Err(error) => Loaded::Error(error.to_string()),
        },
        LoadRequest::Tables => match describe_tables(store.conn()) {
            Ok(tables) => Loaded::Tables(tables),
            Err(error) => Loaded::Error(error.to_string()),
        },
        LoadRequest::Recipes => match Recipe::all_stored(store) {
            Ok(recipes) => Loaded::Recipes(recipes),
            Err(error) => Loaded::Error(error.to_string()),
        },
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

fn read_import(read: ImportRead) -> Loaded {
    match read {
        ImportRead::ExpandInputs { paths } => {
            let folder = matches!(paths.as_slice(), [one] if one.is_dir());
            let result = sluice::import::expand_inputs(&paths)
                .map(|inputs| inputs.files)
                .map_err(|error| error.to_string());
            Loaded::Import(ImportAnswer::Inputs { paths, folder, result })
        }
        ImportRead::Sniff { path, hints } => {
            let result = sniff(&path, &hints).map(Box::new).map_err(|error| error.to_string());
            Loaded::Import(ImportAnswer::Sniffed { path, result })
        }
        ImportRead::LoadSchema { path } => match SchemaFile::load(&path) {
            Ok(schema) => Loaded::Import(ImportAnswer::Schema(schema)),
            Err(error) => Loaded::Error(error.to_string()),
        },
        ImportRead::SaveSchema { path, schema } => match std::fs::write(&path, schema.to_json_pretty()) {
            Ok(()) => Loaded::Done(format!("Saved the schema to {}", path.display())),
            Err(error) => Loaded::Error(format!("cannot write {}: {error}", path.display())),
        },
    }
}

fn read_failed(store: &Store, read: FailedRead) -> Loaded {
    match read {
        FailedRead::Summary {
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
                    groups: failed_groups(conn, job_id)?,
                    columns: store.job(job_id)?.map(|job| job.source_columns).unwrap_or_default(),
                })
            });
            Loaded::Failed(FailedAnswer::Summary {
                generation,
                result: summary.map_err(|error| error.to_string()),
            })
        }
        FailedRead::Page {
            job_id,
            filter,
            page,
            start,
            next_start,
            generation,
        } => Loaded::Failed(FailedAnswer::Page(PageAnswer {
            generation,
            page,
            result: read_failed_rows(store.conn(), job_id, &filter, start, next_start, PAGE_ROWS)
                .map_err(|error| error.to_string()),
        })),
        FailedRead::Report { job_id, path } => match write_report(store, job_id, &path) {
            Ok(rows) => Loaded::Done(format!(
                "Wrote {rows} failed rows of job {job_id} to {}",
                path.display()
            )),
            Err(error) => Loaded::Error(format!("cannot write {}: {error}", path.display())),
        },
        FailedRead::PreviewFix {
            job_id,
            filter,
            rule,
            generation,
            cancel,
        } => {
            let result = preview_fix(store, job_id, &filter, std::slice::from_ref(&*rule), &cancel)
                .map_err(|error| error.to_string());
            Loaded::Failed(FailedAnswer::Preview {
                generation,
                rule,
                result,
            })
        }
        FailedRead::KeepInRecipe { recipe, rule } => match Recipe::add_rule(store, &recipe, *rule) {
            Ok(kept) => Loaded::Done(format!(
                "Recipe '{}' now has {} rule{}",
                kept.name,
                kept.rules.len(),
                if kept.rules.len() == 1 { "" } else { "s" }
            )),
            Err(error) => Loaded::Error(format!("the rule was not kept in recipe '{recipe}': {error}")),
        },
    }
}

fn read_browse(store: &Store, read: BrowseRead) -> BrowseAnswer {
    match read {
        BrowseRead::Index { generation, query } => BrowseAnswer::Index {
            generation,
            result: index_pages(store.conn(), &query, BROWSE_PAGE_ROWS)
                .map(Arc::new)
                .map_err(|error| error.to_string()),
        },
        BrowseRead::Page {
            generation,
            index,
            page,
        } => BrowseAnswer::Page(PageAnswer {
            generation,
            page,
            result: read_page(store.conn(), &index, page).map_err(|error| error.to_string()),
        }),
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
