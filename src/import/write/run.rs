//! One import job from start to commit: sniff and plan its files, start the transaction, run the
//! parser thread over the files and hand what it sends to the job's keyed writer, judge the
//! unique rule, and commit only when everything was read and every row is accounted for.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crossbeam_channel::{Receiver, bounded};

use crate::import::open::stamp::FileStamp;
use crate::import::plan::import_plan::ImportPlan;
use crate::import::plan::many_files::{FilesPlan, PlannedFile, plan_files};
use crate::import::plan::target::{TableSetup, Target, target};
use crate::import::sniff::file_layout::{FileLayout, StoredLayouts};
use crate::import::sniff::several_files::sniff_all;
use crate::import::sniff::sniffer::Sniffed;
use crate::import::sniff::types::ColumnType;
use crate::import::write::keyed_writer::{self, KeyedWriter};
use crate::import::write::load::{self, Written};
use crate::import::write::pipeline::{self, ParsePart, ParseTotals, ParsedBatch};
use crate::import::write::recipe::{Recipe, RecipeRun, RuleCounts};
use crate::import::write::reread::{FileSpans, Reread, RereadFile};
use crate::import::write::unique::Duplicate;
use crate::import::write::upsert::{self, Key};
use crate::import::write::validate::RowValidator;
use crate::import::{ImportError, ImportMode, ImportRequest, ParseError, expand_inputs, panic_message};
use crate::job::JobContext;
use crate::progress::{CancelToken, Progress, ProgressSink};
use crate::records::ExistingTable;
use crate::sql::validate_table_name;
use crate::sql_type::SqlType;
use crate::store::{JobOutcome, StoreError, Transaction, existing_table};
use crate::throttle::TokenBucket;

/// The types of the columns the table will have once the import's transaction commits (an
/// existing table's, with the files' new ones), to size the room DuckDB needs to commit its rows.
fn stored_types(existing: Option<&ExistingTable>, added: &[(String, ColumnType)], plan: &ImportPlan) -> Vec<SqlType> {
    let sql_type = |column_type: &ColumnType| SqlType::from_catalog(&column_type.sql_name());
    match existing {
        Some(table) => table
            .columns
            .iter()
            .map(|column| column.sql_type)
            .chain(added.iter().map(|(_, column_type)| sql_type(column_type)))
            .collect(),
        None => plan
            .columns
            .iter()
            .map(|column| sql_type(&column.column_type))
            .collect(),
    }
}

pub(in crate::import) struct Finished {
    /// The first file's sniff, for the summary's encoding and delimiter.
    pub sniffed: Sniffed,
    pub files: u64,
    /// The peak stored with the job, so the summary and the record say the same.
    pub peak_rss_bytes: Option<u64>,
    /// With a recipe: the rows each rule changed, by its label.
    pub fixed_by: BTreeMap<String, u64>,
}

/// Everything decided before the transaction starts: the files' plans, the key and the table.
struct Prepared {
    files: Vec<PlannedFile>,
    /// The first file's sniff, for the summary.
    first: Sniffed,
    /// Packed bytes of every file, when every size is known.
    bytes_total: Option<u64>,
    added_columns: Vec<(String, ColumnType)>,
    key: Option<Key>,
    setup: TableSetup,
    table_name: String,
    existing: Option<ExistingTable>,
}

/// Sniffs and plans the request's files against the table as it is, and finds the key.
fn prepare(context: &mut JobContext<'_>, request: &ImportRequest) -> Result<Prepared, ImportError> {
    validate_table_name(&request.table)?;
    let paths = expand_inputs(&request.paths)?.files;
    let sniffs = sniff_all(paths, &request.hints, context.cancel)?;
    let bytes_total = sniffs
        .iter()
        .map(|(_, sniffed)| Some(sniffed.bytes_total))
        .sum::<Option<u64>>();
    let layouts: Vec<(PathBuf, FileLayout)> = sniffs
        .iter()
        .map(|(path, sniffed)| (path.clone(), sniffed.layout.clone()))
        .collect();
    let first = sniffs
        .into_iter()
        .next()
        .map(|(_, sniffed)| sniffed)
        .ok_or(ImportError::Inputs(crate::import::InputError::Nothing))?;
    let existing = existing_table(context.conn(), &request.table)?;
    let Target {
        setup,
        name: table_name,
        existing,
    } = target(request.mode, &request.table, existing)?;
    let several = layouts.len() > 1;
    // Stored with the job so that a retry of its failed rows reads them as this import did.
    let stored = StoredLayouts { files: layouts.clone() };
    context.store.set_file_layouts(context.job_id, &stored)?;
    let planned = plan_files(layouts, request, existing.as_ref(), several)?;
    context
        .store
        .set_source_columns(context.job_id, &planned.source_columns())?;
    let FilesPlan {
        mut files,
        added_columns,
    } = planned;
    let key = match request.mode {
        ImportMode::Upsert => Some(upsert::plan_key(&request.key, &mut files, existing.as_ref())?),
        _ => None,
    };
    Ok(Prepared {
        files,
        first,
        bytes_total,
        added_columns,
        key,
        setup,
        table_name,
        existing,
    })
}

pub(in crate::import) fn import_rows(
    context: &mut JobContext<'_>,
    request: &ImportRequest,
    written: &mut Written,
    parse_totals: &mut ParseTotals,
) -> Result<Finished, ImportError> {
    let (conn, job_id, cancel) = (context.conn(), context.job_id, context.cancel);
    let Prepared {
        files,
        first: sniffed,
        bytes_total,
        added_columns,
        key,
        setup,
        table_name,
        existing,
    } = prepare(context, request)?;
    let Some(first) = files.first() else {
        return Err(crate::import::InputError::Nothing.into());
    };
    let plan = first.plan.clone();
    let several = files.len() > 1;
    let file_count = files.len() as u64;
    // Every file's plan has the same columns in the same order (see `many_files`), so the first
    // file's plan names the keyed columns for all.
    let key_columns = keyed_writer::key_columns(&plan, key.as_ref(), job_id);
    let counts = request
        .recipe
        .as_ref()
        .map(|recipe| RuleCounts::new(recipe.rules.len()));
    let Reading { rereads, stamps, parts } = reading(&files, request.recipe.as_ref().zip(counts.clone()))?;

    let table_types = stored_types(existing.as_ref(), &added_columns, &plan);
    // Every return from here without the commit drops it, which undoes all the import wrote.
    let transaction = load::begin(context.store, &table_name, &plan, setup, &added_columns)?;
    let mut writer = KeyedWriter::open(conn, job_id, &table_name, &plan, key, "appending rows")?;
    let (receiver, parser) = start_parser(request, job_id, parts, key_columns, cancel)?;
    let writing = Writing {
        stamps: &stamps,
        bytes_total,
        several,
        columns: plan.columns.len(),
    };
    let write_error = write_batches(context, &mut writer, receiver, &writing, written);
    let parsed = parser
        .join()
        .map_err(|panic| ImportError::Panicked(panic_message(&panic)));
    let per_file = match (write_error, parsed) {
        (Some(error), _) => return Err(error),
        (None, Err(error)) => return Err(error),
        (None, Ok(Err(error))) => return Err(ImportError::Parse(error)),
        (None, Ok(Ok(per_file))) => per_file,
    };
    let totals = ParseTotals::sum(&per_file);
    *parse_totals = totals;
    if let Some(error) = changed_file(&stamps) {
        return Err(error);
    }
    if writer.judges_keys() {
        if cancel.is_cancelled() {
            return Err(ImportError::Parse(ParseError::Cancelled));
        }
        judge(
            conn,
            job_id,
            &writer,
            (&rereads, &FileSpans::new(&per_file)),
            cancel,
            written,
        )?;
    }
    written.rows_updated = writer.merge(written.rows_imported)?;
    if cancel.is_cancelled() {
        return Err(ImportError::Parse(ParseError::Cancelled));
    }
    let peak_rss_bytes = commit(context, transaction, (&totals, written), &table_types, bytes_total)?;
    Ok(Finished {
        sniffed,
        files: file_count,
        peak_rss_bytes,
        fixed_by: request
            .recipe
            .as_ref()
            .zip(counts)
            .map(|(recipe, counts)| counts.by_label(recipe))
            .unwrap_or_default(),
    })
}

/// What reading the files needs of each, taken before the transaction starts: what to read them
/// again by (for the unique rule's duplicates), their stamps and the parser's parts.
struct Reading {
    rereads: Vec<RereadFile>,
    /// By file index: each batch checks its own file, so a change stops the import at the next
    /// batch rather than after the last.
    stamps: Vec<Option<FileStamp>>,
    parts: Vec<ParsePart>,
}

fn reading(files: &[PlannedFile], recipe: Option<(&Recipe, RuleCounts)>) -> Result<Reading, ImportError> {
    let rereads = files
        .iter()
        .map(|file| RereadFile {
            file: file.to_read(),
            plan: file.plan.clone(),
        })
        .collect();
    let stamps = files.iter().map(|file| FileStamp::take(&file.path)).collect();
    let parts = files
        .iter()
        .map(|file| {
            let recipe = recipe
                .as_ref()
                .map(|(recipe, counts)| RecipeRun::new(recipe, &file.plan, counts.clone()))
                .transpose()?;
            Ok(ParsePart {
                file: file.to_read(),
                validator: RowValidator::new(file.plan.clone()),
                recipe,
            })
        })
        .collect::<Result<_, ImportError>>()?;
    Ok(Reading { rereads, stamps, parts })
}

/// Records the job as completed and commits everything it wrote, in one transaction, then
/// reports the final counts. Returns the peak memory recorded with the job.
fn commit(
    context: &mut JobContext<'_>,
    transaction: Transaction<'_>,
    (totals, written): (&ParseTotals, &Written),
    table_types: &[SqlType],
    bytes_total: Option<u64>,
) -> Result<Option<u64>, ImportError> {
    let result = JobOutcome {
        rows_read: totals.rows_read,
        rows_imported: written.rows_imported,
        rows_updated: written.rows_updated,
        rows_failed: written.rows_failed,
        rows_skipped: totals.rows_skipped,
        bytes_read: totals.bytes_read,
        peak_rss_bytes: context.peak_rss_bytes(),
        ..JobOutcome::default()
    };
    context
        .record_completed(&result)
        .and_then(|()| load::commit(transaction, written, table_types))?;
    context.progress(&Progress {
        rows_read: totals.rows_read,
        rows_skipped: totals.rows_skipped,
        rows_imported: written.rows_imported,
        rows_failed: written.rows_failed,
        bytes_read: totals.bytes_read,
        bytes_total,
        ..Progress::default()
    });
    Ok(result.peak_rss_bytes)
}

type ParserThread = std::thread::JoinHandle<Result<Vec<ParseTotals>, ParseError>>;

/// Starts the parse thread over `parts`, sending batches into a bounded channel.
fn start_parser(
    request: &ImportRequest,
    job_id: i64,
    parts: Vec<ParsePart>,
    key_columns: Vec<usize>,
    cancel: &CancelToken,
) -> Result<(Receiver<ParsedBatch>, ParserThread), ImportError> {
    let batch_rows = request.batch_rows;
    let (sender, receiver) = bounded(crate::import::channel_batches(batch_rows));
    let parser_cancel = cancel.clone();
    let throttle = request
        .max_rows_per_sec
        .map(|rate| TokenBucket::new(rate, batch_rows as u64));
    let parser = std::thread::Builder::new()
        .name(format!("sluice-parse-{job_id}"))
        .spawn(move || {
            pipeline::parse_parts(parts, batch_rows, &key_columns, throttle, &parser_cancel, |batch| {
                sender.send(batch).is_ok()
            })
        })
        .map_err(|error| ImportError::Panicked(format!("could not start the parser thread: {error}")))?;
    Ok((receiver, parser))
}

/// What the writing loop reports progress against and checks the files by.
struct Writing<'s> {
    stamps: &'s [Option<FileStamp>],
    bytes_total: Option<u64>,
    several: bool,
    columns: usize,
}

/// Writes what the parser sends until it ends, reporting progress after each batch. Returns
/// the first error; the receiver is then dropped, which stops the parser.
fn write_batches(
    context: &mut JobContext<'_>,
    writer: &mut KeyedWriter<'_>,
    receiver: Receiver<ParsedBatch>,
    writing: &Writing<'_>,
    written: &mut Written,
) -> Option<ImportError> {
    let (conn, job_id, cancel) = (context.conn(), context.job_id, context.cancel);
    // DuckDB's limit makes room for the transaction's own bookkeeping as it grows, unless a
    // unique check or an upsert's merge will want that room once every row is written.
    let mut room = match writer.judges_keys() {
        false => context.store.transaction_room(writing.columns),
        true => None,
    };
    for batch in receiver.iter() {
        if cancel.is_cancelled() {
            return Some(ImportError::Parse(ParseError::Cancelled));
        }
        let report = Progress {
            rows_read: batch.rows_read,
            bytes_read: batch.bytes_read,
            bytes_total: writing.bytes_total,
            file_index: writing.several.then_some(batch.file_index as u32),
            ..Progress::default()
        };
        if let Err(error) = load::append_batch(conn, writer, job_id, batch, written) {
            return Some(error.into());
        }
        if let Some(room) = room.as_mut() {
            room.written(written.rows_imported);
        }
        if let Some(Some(stamp)) = writing.stamps.get(report.file_index.map_or(0, |index| index as usize))
            && let Some(how) = stamp.change()
        {
            return Some(ImportError::ChangedWhileRead {
                path: stamp.path().to_path_buf(),
                how,
            });
        }
        context.progress(&Progress {
            rows_imported: written.rows_imported,
            rows_failed: written.rows_failed,
            ..report
        });
    }
    writer.finish_writing().err().map(ImportError::from)
}

/// The first input that changed while it was read, as the import's error.
fn changed_file(stamps: &[Option<FileStamp>]) -> Option<ImportError> {
    stamps
        .iter()
        .flatten()
        .find_map(|stamp| stamp.change().map(|how| (stamp, how)))
        .map(|(stamp, how)| ImportError::ChangedWhileRead {
            path: stamp.path().to_path_buf(),
            how,
        })
}

/// Judges the unique rule or the key: its duplicates leave the table and become failed rows,
/// with their raw text and fields read again from their files (only theirs are kept; the good
/// rows never pay for it). Corrects the counts: every duplicate was counted imported when it was
/// appended.
fn judge(
    conn: &duckdb::Connection,
    job_id: i64,
    writer: &KeyedWriter<'_>,
    (rereads, spans): (&[RereadFile], &FileSpans),
    cancel: &CancelToken,
    written: &mut Written,
) -> Result<(), ImportError> {
    let file_of = |record_no: u64| {
        spans
            .file_of(record_no)
            .and_then(|index| rereads.get(index))
            .map(|reread| reread.file.label.clone())
    };
    let wording = |duplicate: &Duplicate, plan: &ImportPlan, fields: &[String]| {
        writer.problems(duplicate, plan, fields, &file_of)
    };
    let mut reread = Reread::new(rereads, spans);
    let mut read_error: Option<ImportError> = None;
    let failed = writer.judge(&mut |page| {
        let mut rows = Vec::with_capacity(page.len());
        for duplicate in page {
            match reread.failed_row(&duplicate, cancel, &wording) {
                Ok(row) => rows.push(row),
                Err(error) => {
                    read_error = Some(error);
                    return Err(StoreError::Inconsistent("the file could not be read again".into()));
                }
            }
        }
        crate::store::append_failed_rows(conn, job_id, &rows)
    });
    let failed = match (failed, read_error) {
        (_, Some(error)) => return Err(error),
        (result, None) => result?,
    };
    written.rows_failed += failed;
    written.rows_imported -= failed;
    Ok(())
}
