//! Writing an export as Parquet: one file with DuckDB's own writer, or numbered files of N rows
//! or a Hive-partitioned folder (`col=value/data_0.parquet`, which data lakes, Spark, Trino and
//! DuckDB read as one table) written by Sluice from the streamed rows ([`super::parquet_stream`]).
//!
//! Everything is written under a hidden temporary name (a file or a folder) that is renamed into
//! place only when it has finished, like every export.

use std::path::{Path, PathBuf};

use super::batches::Pump;
use super::files::{OutputNames, PartFiles, part_path};
use super::parquet_stream::{FileSettings, Layout, write_batches};
use super::query::ExportQuery;
use super::{ExportError, ExportRequest, database};
use crate::query::Column;
use crate::sql::{quote_ident, quote_literal};
use crate::sql_type::SqlType;

/// How often DuckDB's progress estimate is reported while the COPY runs.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

pub fn write_parquet(pump: Pump<'_>, request: &ExportRequest, query: &ExportQuery) -> Result<PartFiles, ExportError> {
    if request.gzip_level.is_some() {
        return Err(ExportError::Unsupported {
            format: "Parquet",
            what: "gzip-compressed (Parquet compresses its own columns)",
        });
    }
    let options = &request.parquet;
    let partition_columns = partition_columns(query, &options.partition_by)?;
    if request.chunk_rows.is_some() || !partition_columns.is_empty() {
        return write_streamed(pump, request, query, &partition_columns);
    }
    let Pump {
        conn,
        job_id,
        progress,
        cancel,
        written,
        report,
    } = pump;
    let rows_total = report(written).rows_total.unwrap_or(0);
    let final_path = request.out.clone();
    let io_error = |source| ExportError::Io {
        path: final_path.clone(),
        source,
    };
    let mut parts = PartFiles::new(job_id);
    drop(parts.create(final_path.clone()).map_err(io_error)?);
    let part = part_path(&final_path, job_id);
    let mut copy_options = vec![
        "FORMAT parquet".to_string(),
        format!("COMPRESSION {}", options.compression.sql()),
    ];
    if let Some(rows) = options.row_group_rows {
        copy_options.push(format!("ROW_GROUP_SIZE {}", rows.max(1)));
    }
    let sql = format!(
        "COPY ({}) TO {} ({})",
        query.select_typed_sql,
        quote_literal(&part.display().to_string()),
        copy_options.join(", ")
    );
    // The COPY runs on a connection of its own on a helper thread, so this thread can report
    // DuckDB's own progress estimate and interrupt the statement on cancel.
    let copy_conn = conn.try_clone().map_err(database("opening a connection for Parquet"))?;
    copy_conn
        .set_query_progress_tracking(true)
        .map_err(database("turning on query progress"))?;
    let progress_handle = copy_conn.progress_handle();
    let interrupt = copy_conn.interrupt_handle();
    let params = query.params.clone();
    let (done_sender, done) = crossbeam_channel::bounded(1);
    let copier = std::thread::Builder::new()
        .name(format!("sluice-parquet-{job_id}"))
        .spawn(move || {
            let params: Vec<&dyn duckdb::ToSql> = params.iter().map(|p| p as &dyn duckdb::ToSql).collect();
            let copied = copy_conn.execute(&sql, params.as_slice()).map(|_| ());
            // The job's thread waits on this, not on a timer: it goes on the moment DuckDB ends.
            let _ = done_sender.send(());
            copied
        })
        .map_err(io_error)?;
    while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = done.recv_timeout(PROGRESS_EVERY) {
        if cancel.is_cancelled() {
            interrupt.interrupt();
        }
        if let Some(percentage) = progress_handle.query_progress().percentage() {
            written.rows = ((percentage / 100.0) * rows_total as f64) as u64;
            progress.progress(&report(written));
        }
    }
    let copied = copier.join().map_err(|panic| ExportError::Io {
        path: final_path.clone(),
        source: std::io::Error::other(crate::import::panic_message(&panic)),
    })?;
    if cancel.is_cancelled() {
        return Err(ExportError::Cancelled);
    }
    copied.map_err(database("writing Parquet"))?;
    written.rows = rows_total;
    written.bytes = size_on_disk(&part);
    Ok(parts)
}

/// Writes numbered files of `chunk_rows` rows, or a Hive-partitioned folder, from the streamed
/// rows (see [`super::parquet_stream`]).
fn write_streamed(
    pump: Pump<'_>,
    request: &ExportRequest,
    query: &ExportQuery,
    partition_columns: &[String],
) -> Result<PartFiles, ExportError> {
    let final_path = request.out.clone();
    let mut parts = PartFiles::new(pump.job_id);
    let data_columns: Vec<&Column> = query
        .columns
        .iter()
        .filter(|column| !partition_columns.contains(&column.name))
        .collect();
    if data_columns.is_empty() {
        return Err(ExportError::Unsupported {
            format: "Parquet",
            what: "partitioned by every column it exports (leave at least one column out of the partitions)",
        });
    }
    let mut select: Vec<String> = data_columns
        .iter()
        .map(|column| {
            let source = ExportQuery::source(&column.name);
            // Parquet has no interval of months, days and nanoseconds, which is what DuckDB's
            // INTERVAL is in Arrow: it is written as DuckDB's text of it.
            let value = match column.sql_type {
                SqlType::Interval => format!("CAST({source} AS VARCHAR)"),
                // Parquet has no 128-bit integer: DuckDB's own COPY writes these as DOUBLE, and so
                // does this writer (Arrow's DECIMAL(38) cannot hold -2^127, and a file with it
                // is one DuckDB fails to read).
                SqlType::HugeInt | SqlType::UHugeInt => format!("CAST({source} AS DOUBLE)"),
                _ => source,
            };
            format!("{value} AS {}", quote_ident(&column.name))
        })
        .collect();
    // Each partition's folder name part (`col=value`) as DuckDB's own COPY names it: its text
    // of the value, escaped, NULL as `__HIVE_DEFAULT_PARTITION__`. The names are bound.
    select.extend(
        partition_columns
            .iter()
            .map(|name| format!("hive_partition_component(?, {})", ExportQuery::source(name))),
    );
    let params: Vec<String> = partition_columns.iter().chain(&query.params).cloned().collect();
    let sql = format!("SELECT {}{}{}", select.join(", "), query.from_sql, query.order_sql);
    let layout = if partition_columns.is_empty() {
        Layout::Files {
            names: OutputNames::with_extension(&final_path, request.chunk_rows.is_some(), ".parquet"),
            parts: &mut parts,
        }
    } else {
        refuse_folder_in_use(&final_path)?;
        parts.create_dir(final_path.clone()).map_err(|source| ExportError::Io {
            path: final_path.clone(),
            source,
        })?;
        Layout::Partitioned {
            root: part_path(&final_path, pump.job_id),
            partitions: partition_columns.len(),
        }
    };
    pump.run(&sql, &params, "sluice-parquet", |batches, bytes_written| {
        let settings = FileSettings {
            options: &request.parquet,
            chunk_rows: request.chunk_rows,
            out: &final_path,
        };
        write_batches(batches, layout, &settings, bytes_written)
    })?;
    Ok(parts)
}

/// The partition columns as the catalog spells them; each must be one of the exported columns.
fn partition_columns(query: &ExportQuery, wanted: &[String]) -> Result<Vec<String>, ExportError> {
    let mut names: Vec<String> = Vec::new();
    for name in wanted {
        let column = query
            .columns
            .iter()
            .find(|column| column.name.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| ExportError::PartitionColumn(name.clone()))?;
        // A column named twice partitions once.
        if !names.contains(&column.name) {
            names.push(column.name.clone());
        }
    }
    Ok(names)
}

/// A partitioned export replaces its folder: an existing folder must be empty, so no file of the
/// user's is ever removed.
fn refuse_folder_in_use(path: &Path) -> Result<(), ExportError> {
    let in_use = match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_some(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
        // A file of that name, or a folder that cannot be read.
        Err(_) => true,
    };
    if in_use {
        return Err(ExportError::FolderInUse(path.to_path_buf()));
    }
    Ok(())
}

/// The bytes of a file, or of every file under a folder.
fn size_on_disk(path: &Path) -> u64 {
    let Ok(metadata) = std::fs::metadata(path) else {
        return 0;
    };
    if !metadata.is_dir() {
        return metadata.len();
    }
    let mut total = 0;
    let mut folders: Vec<PathBuf> = vec![path.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(metadata) if metadata.is_dir() => folders.push(entry.path()),
                Ok(metadata) => total += metadata.len(),
                Err(_) => {}
            }
        }
    }
    total
}
