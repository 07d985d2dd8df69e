//! One import job from start to commit: sniff and plan its files, start the transaction, run the
//! parser thread over the files and append what it sends, judge the unique rule, and commit only
//! when everything was read and every row is accounted for.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crossbeam_channel::bounded;

use crate::import::open::stamp::FileStamp;
use crate::import::plan::import_plan::ImportPlan;
use crate::import::plan::many_files::{FilesPlan, plan_files};
use crate::import::sniff::sniffer::{SampleSize, SniffError, SniffHints, Sniffed, sniff, sniff_with};
use crate::import::sniff::types::ColumnType;
use crate::import::write::load::{self, TableSetup, Written};
use crate::import::write::pipeline::{self, ParsePart, ParseTotals};
use crate::import::write::reread::{FileSpans, Reread, RereadFile};
use crate::import::write::unique::{self, Duplicate, UniqueKeys};
use crate::import::write::upsert;
use crate::import::write::validate::RowValidator;
use crate::import::{ImportError, ImportMode, ImportRequest, ParseError, expand_inputs, panic_message};
use crate::job::JobContext;
use crate::progress::{CancelToken, Progress, ProgressSink};
use crate::records::ExistingTable;
use crate::sql::validate_table_name;
use crate::sql_type::SqlType;
use crate::store::upsert::Stage;
use crate::store::{ArrowInserter, JobOutcome, StoreError, existing_table};
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

/// Files sniffed at once at most.
const MAX_SNIFF_THREADS: usize = 4;

pub(in crate::import) struct Finished {
    /// The first file's sniff, for the summary's encoding and delimiter.
    pub sniffed: Sniffed,
    pub files: u64,
    /// The peak stored with the job, so the summary and the record say the same.
    pub peak_rss_bytes: Option<u64>,
}

pub(in crate::import) fn import_rows(
    context: &mut JobContext<'_>,
    request: &ImportRequest,
    written: &mut Written,
    parse_totals: &mut ParseTotals,
) -> Result<Finished, ImportError> {
    let (conn, job_id, cancel) = (context.conn(), context.job_id, context.cancel);
    validate_table_name(&request.table)?;
    let paths = expand_inputs(&request.paths)?.files;
    let sniffs = sniff_all(paths, &request.hints, cancel)?;
    let existing = existing_table(conn, &request.table)?;
    let (setup, table_name, existing) = match (request.mode, existing) {
        (ImportMode::Create, Some(table)) => return Err(ImportError::TableExists { table: table.name }),
        (ImportMode::Create, None) => (TableSetup::Create, request.table.clone(), None),
        (ImportMode::Append, None) => {
            return Err(ImportError::TableMissing {
                table: request.table.clone(),
            });
        }
        (ImportMode::Append, Some(table)) => (TableSetup::Existing, table.name.clone(), Some(table)),
        (ImportMode::Replace, Some(table)) => (TableSetup::Replace, table.name, None),
        (ImportMode::Replace, None) => (TableSetup::Replace, request.table.clone(), None),
        (ImportMode::Upsert, Some(table)) => (TableSetup::Existing, table.name.clone(), Some(table)),
        (ImportMode::Upsert, None) => (TableSetup::Create, request.table.clone(), None),
    };
    let FilesPlan {
        mut files,
        added_columns,
    } = {
        let several = sniffs.len() > 1;
        let planned = plan_files(sniffs, request, existing.as_ref(), several)?;
        context.store.set_source_columns(job_id, &planned.source_columns())?;
        planned
    };
    let key = match request.mode {
        ImportMode::Upsert => Some(upsert::plan_key(&request.key, &mut files, existing.as_ref())?),
        _ => None,
    };
    let Some(first) = files.first() else {
        return Err(crate::import::InputError::Nothing.into());
    };
    let plan = first.plan.clone();
    let bytes_total = files
        .iter()
        .map(|file| Some(file.sniffed.bytes_total))
        .sum::<Option<u64>>();
    let several = files.len() > 1;
    let file_count = files.len() as u64;
    let column_names: Vec<String> = plan.columns.iter().map(|column| column.name.clone()).collect();
    let column_refs: Vec<&str> = column_names.iter().map(String::as_str).collect();
    // With a unique column, the rows' keys go to a table of their own and the rule is checked in
    // DuckDB once every file has been read. Every file's plan has the same columns in the same
    // order (see `files`), so the first file's plan names the unique ones for all. An upsert's
    // key is checked the same way, as one key among the job's rows.
    let unique = match &key {
        Some(key) => upsert::key_check(&plan, key, job_id),
        None => unique::check_for_plan(&plan, job_id),
    };
    let key_columns: Vec<usize> = unique.as_ref().map(|check| check.unique_columns()).unwrap_or_default();
    let rereads: Vec<RereadFile> = files
        .iter()
        .map(|file| RereadFile {
            file: file.to_read(),
            plan: file.plan.clone(),
        })
        .collect();
    // By file index: each batch checks its own file, so a change stops the import at the next
    // batch rather than after the last.
    let stamps: Vec<Option<FileStamp>> = files.iter().map(|file| FileStamp::take(&file.path)).collect();
    let parts: Vec<ParsePart> = files
        .iter()
        .map(|file| ParsePart {
            file: file.to_read(),
            validator: RowValidator::new(file.plan.clone()),
        })
        .collect();
    let sniffed = files.into_iter().next().map(|file| file.sniffed);

    let table_types = stored_types(existing.as_ref(), &added_columns, &plan);
    // Every return from here without the commit drops it, which undoes all the import wrote.
    let transaction = load::begin(context.store, &table_name, &plan, setup, &added_columns)?;
    // An upsert's rows are staged, then merged by key once the key rule has been judged.
    let stage = match &key {
        Some(_) => {
            let columns: Vec<(String, String)> = plan
                .columns
                .iter()
                .map(|column| (column.name.clone(), column.column_type.sql_name()))
                .collect();
            match Stage::create(conn, job_id, &columns) {
                Ok(stage) => Some(stage),
                Err(error) => {
                    return Err(error.into());
                }
            }
        }
        None => None,
    };
    let committed_rowid = match &unique {
        Some(check) => match check.create(conn).and_then(|()| match &stage {
            Some(_) => Ok(-1),
            None => unique::committed_rowid(conn, &table_name),
        }) {
            Ok(rowid) => rowid,
            Err(error) => {
                return Err(error.into());
            }
        },
        None => -1,
    };
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

    let mut write_error = None;
    let opened = match &stage {
        Some(stage) => stage.inserter(conn),
        None => ArrowInserter::into_table(conn, &table_name, &column_refs, "appending rows"),
    }
    .and_then(|inserter| {
        let keys = unique.as_ref().map(|check| check.appender(conn)).transpose()?;
        Ok((inserter, keys))
    });
    let (mut inserter, mut key_appender) = match opened {
        Ok((inserter, keys)) => (Some(inserter), keys),
        Err(error) => {
            write_error = Some(error.into());
            (None, None)
        }
    };
    // DuckDB's limit makes room for the transaction's own bookkeeping as it grows, unless a
    // unique check or an upsert's merge will want that room once every row is written.
    let mut room = match unique {
        None => context.store.transaction_room(column_refs.len()),
        Some(_) => None,
    };
    for batch in receiver.iter() {
        let Some(inserter) = inserter.as_mut() else {
            break;
        };
        if cancel.is_cancelled() {
            write_error = Some(ImportError::Parse(ParseError::Cancelled));
            break;
        }
        let report = Progress {
            rows_read: batch.rows_read,
            bytes_read: batch.bytes_read,
            bytes_total,
            file_index: several.then_some(batch.file_index as u32),
            ..Progress::default()
        };
        if let Err(error) = load::append_batch(conn, inserter, key_appender.as_mut(), job_id, batch, written) {
            write_error = Some(error.into());
            break;
        }
        if let Some(room) = room.as_mut() {
            room.written(written.rows_imported);
        }
        if let Some(Some(stamp)) = stamps.get(report.file_index.map_or(0, |index| index as usize))
            && let Some(how) = stamp.change()
        {
            write_error = Some(ImportError::ChangedWhileRead {
                path: stamp.path().to_path_buf(),
                how,
            });
            break;
        }
        context.progress(&Progress {
            rows_imported: written.rows_imported,
            rows_failed: written.rows_failed,
            ..report
        });
    }
    drop(receiver);
    let flushed = match (inserter.take(), key_appender.take()) {
        (Some(_), Some(mut keys)) if write_error.is_none() => keys
            .flush()
            .map_err(StoreError::query("appending the unique check's keys")),
        _ => Ok(()),
    };
    if let Err(error) = flushed {
        write_error = Some(error.into());
    }
    let parsed = parser
        .join()
        .map_err(|panic| ImportError::Panicked(panic_message(&panic)));
    let outcome = match (write_error, parsed) {
        (Some(error), _) => Err(error),
        (None, Err(error)) => Err(error),
        (None, Ok(Err(error))) => Err(ImportError::Parse(error)),
        (None, Ok(Ok(per_file))) => Ok(per_file),
    };
    let per_file = match outcome {
        Ok(per_file) => per_file,
        Err(error) => {
            return Err(error);
        }
    };
    let totals = ParseTotals::sum(&per_file);
    *parse_totals = totals;
    if let Some((stamp, how)) = stamps
        .iter()
        .flatten()
        .find_map(|stamp| stamp.change().map(|how| (stamp, how)))
    {
        return Err(ImportError::ChangedWhileRead {
            path: stamp.path().to_path_buf(),
            how,
        });
    }
    if let Some(check) = &unique {
        let spans = FileSpans::new(&per_file);
        let file_of = |record_no: u64| {
            spans
                .file_of(record_no)
                .and_then(|index| rereads.get(index))
                .map(|reread| reread.file.label.clone())
        };
        let wording = |duplicate: &Duplicate, plan: &ImportPlan, fields: &[String]| match &key {
            Some(key) => upsert::key_problems(duplicate, plan, fields, key, &file_of),
            None => unique::unique_problems(duplicate, plan, fields, &table_name, &file_of),
        };
        let target = match &stage {
            Some(stage) => stage.qualified(),
            None => unique::main_table(&table_name),
        };
        let resolved = if cancel.is_cancelled() {
            Err(ImportError::Parse(ParseError::Cancelled))
        } else {
            resolve_unique(
                conn,
                job_id,
                check,
                &target,
                (committed_rowid, stage.is_none()),
                Reread::new(&rereads, &spans),
                &wording,
                cancel,
                written,
            )
        };
        resolved?;
    }
    if let (Some(stage), Some(key)) = (stage, &key) {
        let merged = stage.merge(conn, &table_name, &column_names, &key.names);
        match merged {
            Ok(merged) if merged.inserted + merged.updated == written.rows_imported => {
                written.rows_updated = merged.updated;
            }
            Ok(merged) => {
                return Err(StoreError::Inconsistent(format!(
                    "{} rows were staged but the merge inserted {} and updated {}; nothing was imported",
                    written.rows_imported, merged.inserted, merged.updated
                ))
                .into());
            }
            Err(error) => {
                return Err(error.into());
            }
        }
    }
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
    if cancel.is_cancelled() {
        return Err(ImportError::Parse(ParseError::Cancelled));
    }
    let committed = context
        .record_completed(&result)
        .and_then(|()| load::commit(transaction, written, &table_types));
    if let Err(error) = committed {
        return Err(error.into());
    }
    context.progress(&Progress {
        rows_read: totals.rows_read,
        rows_skipped: totals.rows_skipped,
        rows_imported: written.rows_imported,
        rows_failed: written.rows_failed,
        bytes_read: totals.bytes_read,
        bytes_total,
        ..Progress::default()
    });
    Ok(Finished {
        sniffed: sniffed.ok_or(ImportError::Inputs(crate::import::InputError::Nothing))?,
        files: file_count,
        peak_rss_bytes: result.peak_rss_bytes,
    })
}

/// Sniffs every file: the first as a lone file is sniffed, the others as parts of the same
/// extract (see [`sniff_later`]).
fn sniff_all(
    paths: Vec<PathBuf>,
    hints: &SniffHints,
    cancel: &CancelToken,
) -> Result<Vec<(PathBuf, Sniffed)>, ImportError> {
    let mut paths = paths.into_iter();
    let Some(first_path) = paths.next() else {
        return Ok(Vec::new());
    };
    let first = sniff(&first_path, hints)?;
    // Whether a later part has a header is the first's, unless the person said: a part guessed
    // headerless would import its header as a row and its real columns as new ones.
    let mut later_hints = hints.clone();
    later_hints.has_header.get_or_insert(first.has_header);
    let mut sniffed = vec![(first_path, first)];
    sniffed.extend(sniff_later(paths.collect(), &later_hints, cancel)?);
    Ok(sniffed)
}

/// Sniffs the files after the first, several at a time (one after another they would hold up
/// the first row of a many-file import by as long), each from a smaller sample
/// ([`LATER_FILE_SAMPLE`]): their dialect and header show in the first lines, and their types
/// only need to agree with (or widen) the first's. The first error stops the others.
fn sniff_later(
    paths: Vec<PathBuf>,
    hints: &SniffHints,
    cancel: &CancelToken,
) -> Result<Vec<(PathBuf, Sniffed)>, ImportError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_SNIFF_THREADS)
        .min(paths.len());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Vec<Mutex<Option<Result<Sniffed, SniffError>>>> = paths.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let (Some(path), Some(slot)) = (paths.get(index), results.get(index)) else {
                break;
            };
            if cancel.is_cancelled() || stop.load(Ordering::Relaxed) {
                break;
            }
            let sniffed = sniff_later_file(path, hints);
            if sniffed.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(sniffed);
            }
        }
    };
    if workers <= 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for worker in 0..workers {
                // A worker that could not start leaves its files to the others.
                let _ = std::thread::Builder::new()
                    .name(format!("sluice-sniff-{worker}"))
                    .spawn_scoped(scope, work);
            }
        });
    }
    if cancel.is_cancelled() {
        return Err(ImportError::Parse(ParseError::Cancelled));
    }
    let mut sniffed = Vec::with_capacity(paths.len());
    let mut not_sniffed = None;
    for (path, slot) in paths.into_iter().zip(results) {
        match slot.into_inner().ok().flatten() {
            Some(Ok(file)) => sniffed.push((path, file)),
            Some(Err(error)) => return Err(error.into()),
            None => not_sniffed = not_sniffed.or(Some(path)),
        }
    }
    match not_sniffed {
        Some(path) => Err(ImportError::Panicked(format!("{} was not sniffed", path.display()))),
        None => Ok(sniffed),
    }
}

/// How much of each file after the first is sampled: 64 KiB from the start and 4 blocks of
/// 64 KiB further in, the last at the end, where a part's total line would be. Measured on 20
/// files of 250,000 rows: the default sample (1 MiB and 16 blocks) took 0.85 s of CPU over the
/// 19 later files, and at 256 KiB and 16 blocks the 20 files were imported in 1.06-1.13x the time
/// of one file of the same rows. At this size the sniff is about a tenth of a second.
const LATER_FILE_SAMPLE: SampleSize = SampleSize {
    bytes: 64 * 1024,
    preview_rows: 20,
    spread_blocks: 4,
};

/// Sniffs a later file from [`LATER_FILE_SAMPLE`], or from the default sample when that held
/// too few records to judge its dialect by (rows of many columns, or a header longer than the
/// sample), or none at all.
fn sniff_later_file(path: &Path, hints: &SniffHints) -> Result<Sniffed, SniffError> {
    match sniff_with(path, hints, LATER_FILE_SAMPLE) {
        Ok(sniffed) if sniffed.preview.len() >= MIN_LATER_SAMPLE_RECORDS => Ok(sniffed),
        _ => sniff(path, hints),
    }
}

/// Records the smaller sample must hold for its guess of the dialect to stand.
const MIN_LATER_SAMPLE_RECORDS: usize = 10;

/// Runs the unique check: its duplicates leave `target` and become failed rows, with their raw
/// text and fields read again from their files (only theirs are kept; the good rows never pay
/// for it), and their problems worded by `wording`. `committed` is the target's last row id
/// before the job and whether rows at or below it count as seen. Corrects the counts: every
/// duplicate was counted imported when it was appended.
#[allow(clippy::too_many_arguments)]
fn resolve_unique(
    conn: &duckdb::Connection,
    job_id: i64,
    check: &UniqueKeys,
    target: &str,
    committed: (i64, bool),
    mut reread: Reread<'_>,
    wording: &unique::Wording<'_>,
    cancel: &CancelToken,
    written: &mut Written,
) -> Result<(), ImportError> {
    let (committed_rowid, check_table) = committed;
    let mut read_error: Option<ImportError> = None;
    let failed = check.resolve(
        conn,
        target,
        committed_rowid,
        check_table && committed_rowid >= 0,
        &mut |page| {
            let mut rows = Vec::with_capacity(page.len());
            for duplicate in page {
                match reread.failed_row(&duplicate, cancel, wording) {
                    Ok(row) => rows.push(row),
                    Err(error) => {
                        read_error = Some(error);
                        return Err(StoreError::Inconsistent("the file could not be read again".into()));
                    }
                }
            }
            crate::store::append_failed_rows(conn, job_id, &rows)
        },
    );
    let failed = match (failed, read_error) {
        (_, Some(error)) => return Err(error),
        (result, None) => result?,
    };
    written.rows_failed += failed;
    written.rows_imported -= failed;
    Ok(())
}
