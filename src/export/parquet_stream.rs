//! Parquet written by Sluice from the export's streamed batches, for what DuckDB's COPY cannot do
//! within Sluice's promises:
//! - files of exactly N rows each (`--chunk-rows`), holding the rows in the export's order;
//! - Hive partitions in flat memory. DuckDB's partitioned COPY needs its own working memory (it
//!   slows to 1.3-2.4x under a limit) and meanwhile keeps every block of the table it reads
//!   cached, so its peak grows with the table. A stream reads the table under the small limit of
//!   any streaming export.
//!
//! Folders and files are named as DuckDB names them (`col=value/data_0.parquet`): the query
//! gives each row's folder name parts from DuckDB's own `hive_partition_component`, so DuckDB,
//! Spark and Trino read the folder back with the same values.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, bounded};
use duckdb::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use duckdb::arrow::compute::{cast, concat_batches, take_record_batch};
use duckdb::arrow::datatypes::DataType;
use duckdb::arrow::error::ArrowError;
use foldhash::fast::FixedState;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use super::ExportError;
use super::files::{OutputNames, PartFiles};
use super::parquet_options::{ParquetCompression, ParquetOptions};

/// Rows gathered from DuckDB's 2,048-row chunks before they are split among partitions: each
/// partition then receives slices large enough to encode efficiently.
const ROUTE_ROWS: usize = 65_536;
/// DuckDB's own default rows per row group.
const DEFAULT_ROW_GROUP_ROWS: usize = crate::store::ROW_GROUP_ROWS as usize;
/// Encoded bytes the open files may hold in their unfinished row groups, together; past it the
/// largest is written out as a (smaller) row group, so many partitions cannot exhaust memory.
const BUFFERED_BYTES_LIMIT: usize = 64 << 20;
/// Files open at once; past it the one written least recently is finished, and its partition
/// continues in a new file (`data_1.parquet`, ...) if more of its rows come.
const MAX_OPEN_FILES: usize = 64;
/// Rows of partitions beyond the open files' limit are held in memory up to this many bytes, so
/// that each goes into a file in row groups rather than a few rows at a time. Past it the
/// partition holding most is written.
const PENDING_BYTES_LIMIT: usize = 96 << 20;
/// Threads encoding partitions at most.
const MAX_ENCODERS: usize = 4;
/// Pieces waiting for each encoder at most. A piece can be a whole routed batch (one partition
/// holding every row of it), so the queue is short to bound memory; four keep the encoders busy
/// (with two, 5M rows in 8 partitions took 1.19x DuckDB's COPY instead of 1.06x).
const PIECES_QUEUED: usize = 4;
/// A column chunk's dictionary grows to this size before the column is written plainly instead.
const DICTIONARY_BYTES_LIMIT: usize = 64 << 10;

/// Where the files go.
pub enum Layout<'a> {
    /// One file, or numbered files of `chunk_rows` rows, named as CSV chunks are.
    Files {
        names: OutputNames,
        parts: &'a mut PartFiles,
    },
    /// A Hive folder (the export's temporary one) partitioned by the batch's last `partitions`
    /// columns, which hold each row's folder name parts (`col=value`).
    Partitioned { root: PathBuf, partitions: usize },
}

/// How files are written, whatever the layout.
pub struct FileSettings<'a> {
    pub options: &'a ParquetOptions,
    /// Rows per file at most.
    pub chunk_rows: Option<u64>,
    /// The export's output, for error messages.
    pub out: &'a Path,
}

/// Writes every batch it receives, returning the files' total bytes. `bytes_written` follows
/// along for progress.
pub fn write_batches(
    batches: Receiver<RecordBatch>,
    layout: Layout<'_>,
    settings: &FileSettings<'_>,
    bytes_written: &AtomicU64,
) -> Result<u64, ExportError> {
    let properties = WriterProperties::builder()
        .set_compression(compression(settings.options.compression))
        .set_dictionary_page_size_limit(DICTIONARY_BYTES_LIMIT)
        .set_max_row_group_row_count(Some(
            settings.options.row_group_rows.map_or(DEFAULT_ROW_GROUP_ROWS, |rows| {
                usize::try_from(rows.max(1)).unwrap_or(usize::MAX)
            }),
        ))
        .build();
    let limits = Limits {
        buffered_bytes: BUFFERED_BYTES_LIMIT,
        open_files: MAX_OPEN_FILES,
        pending_bytes: PENDING_BYTES_LIMIT,
    };
    match layout {
        Layout::Files { .. } => {
            let mut files = OpenFiles::new(layout, properties, settings, limits);
            // An export of no rows still gets one (empty) batch, and so a file with the columns.
            for batch in batches {
                files.write("", &batch)?;
                bytes_written.store(files.bytes_so_far(), Ordering::Relaxed);
            }
            files.finish_all()?;
            Ok(files.finished_bytes)
        }
        Layout::Partitioned { root, partitions } => {
            let encoders = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, MAX_ENCODERS);
            let limits = Limits {
                buffered_bytes: limits.buffered_bytes / encoders,
                open_files: (limits.open_files / encoders).max(1),
                pending_bytes: limits.pending_bytes / encoders,
            };
            let counters: Vec<AtomicU64> = (0..encoders).map(|_| AtomicU64::new(0)).collect();
            std::thread::scope(|scope| {
                let mut senders = Vec::with_capacity(encoders);
                let mut handles = Vec::with_capacity(encoders);
                for (number, counter) in counters.iter().enumerate() {
                    let (sender, pieces) = bounded::<(String, RecordBatch)>(PIECES_QUEUED);
                    // Each encoder writes its own partitions' folders under the same root.
                    let own = Layout::Partitioned {
                        root: root.clone(),
                        partitions,
                    };
                    let files = OpenFiles::new(own, properties.clone(), settings, limits);
                    let handle = std::thread::Builder::new()
                        .name(format!("sluice-parquet-encode-{number}"))
                        .spawn_scoped(scope, move || encode_pieces(pieces, files, counter))
                        .map_err(|source| ExportError::Io {
                            path: "(Parquet encoder thread)".into(),
                            source,
                        })?;
                    senders.push(sender);
                    handles.push(handle);
                }
                let routed = route_all(batches, partitions, &senders, &counters, bytes_written);
                drop(senders);
                let mut total = 0;
                let mut failed = None;
                for handle in handles {
                    match handle.join() {
                        Ok(Ok(bytes)) => total += bytes,
                        Ok(Err(error)) => {
                            failed.get_or_insert(error);
                        }
                        Err(panic) => {
                            failed.get_or_insert(ExportError::Io {
                                path: "(Parquet encoder thread)".into(),
                                source: std::io::Error::other(crate::import::panic_message(&panic)),
                            });
                        }
                    }
                }
                // An encoder's error explains why routing stopped, so it comes first.
                if let Some(error) = failed {
                    return Err(error);
                }
                routed?;
                Ok(total)
            })
        }
    }
}

/// An encoder thread: writes the pieces of its own partitions, in the order they come, so each
/// partition's rows keep the export's order.
fn encode_pieces(
    pieces: Receiver<(String, RecordBatch)>,
    mut files: OpenFiles<'_, '_>,
    bytes_written: &AtomicU64,
) -> Result<u64, ExportError> {
    for (folder, piece) in pieces {
        files.write(&folder, &piece)?;
        bytes_written.store(files.bytes_so_far(), Ordering::Relaxed);
    }
    files.finish_all()?;
    Ok(files.finished_bytes)
}

/// Gathers DuckDB's small chunks, splits them by partition and hands each partition's rows to
/// the encoder that owns the partition.
fn route_all(
    batches: Receiver<RecordBatch>,
    partitions: usize,
    encoders: &[Sender<(String, RecordBatch)>],
    counters: &[AtomicU64],
    bytes_written: &AtomicU64,
) -> Result<(), ExportError> {
    let mut pending: Vec<RecordBatch> = Vec::new();
    let mut pending_rows = 0;
    let mut stopped = false;
    for batch in batches {
        pending_rows += batch.num_rows();
        pending.push(batch);
        if pending_rows >= ROUTE_ROWS {
            stopped = !route(&std::mem::take(&mut pending), partitions, encoders)?;
            pending_rows = 0;
            let total = counters.iter().map(|counter| counter.load(Ordering::Relaxed)).sum();
            bytes_written.store(total, Ordering::Relaxed);
            if stopped {
                break;
            }
        }
    }
    if !stopped {
        route(&pending, partitions, encoders)?;
    }
    Ok(())
}

/// Splits the gathered batches among their partitions and sends each piece to its encoder;
/// false when an encoder has stopped (its error says why).
fn route(
    batches: &[RecordBatch],
    partition_count: usize,
    encoders: &[Sender<(String, RecordBatch)>],
) -> Result<bool, ExportError> {
    let Some(first) = batches.first() else {
        return Ok(true);
    };
    let batch = concat_batches(&first.schema(), batches).map_err(ExportError::Text)?;
    let data_columns: Vec<usize> = (0..batch.num_columns() - partition_count).collect();
    let values: Vec<ArrayRef> = batch.columns()[batch.num_columns() - partition_count..]
        .iter()
        .map(|column| cast(column, &DataType::Utf8))
        .collect::<Result<_, _>>()
        .map_err(ExportError::Text)?;
    let values: Vec<_> = values.iter().map(|column| column.as_string::<i32>()).collect();
    let data = batch.project(&data_columns).map_err(ExportError::Text)?;
    for Group { first_row, rows } in group_rows(&values, batch.num_rows()) {
        let folder = values
            .iter()
            .map(|column| value(column, first_row).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("/");
        let piece = if rows.len() == data.num_rows() {
            data.clone()
        } else {
            take_record_batch(&data, &UInt32Array::from(rows)).map_err(ExportError::Text)?
        };
        // Folders that differ only in case are one folder on a case-insensitive file system:
        // they go to the same encoder, which numbers their files as one.
        let encoder = (FixedState::default().hash_one(folder.to_lowercase()) % encoders.len() as u64) as usize;
        if encoders[encoder].send((folder, piece)).is_err() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The rows of one partition value, and the first of them, which names its folder.
#[derive(Debug, PartialEq)]
struct Group {
    first_row: usize,
    rows: Vec<u32>,
}

/// The rows of each distinct combination of values, in the order the combinations first come.
/// NULL and the text "NULL" are different values.
fn group_rows(values: &[&StringArray], rows: usize) -> Vec<Group> {
    let same = |a: usize, b: usize| values.iter().all(|column| value(column, a) == value(column, b));
    let hasher = FixedState::default();
    let mut groups: Vec<Group> = Vec::new();
    // Groups by the hash of their values; a list, for the rare hashes two combinations share.
    let mut by_hash: HashMap<u64, Vec<usize>, FixedState> = HashMap::with_hasher(FixedState::default());
    for row in 0..rows {
        let mut state = hasher.build_hasher();
        for column in values {
            value(column, row).hash(&mut state);
        }
        let candidates = by_hash.entry(state.finish()).or_default();
        match candidates.iter().find(|&&group| same(groups[group].first_row, row)) {
            Some(&group) => groups[group].rows.push(row as u32),
            None => {
                candidates.push(groups.len());
                groups.push(Group {
                    first_row: row,
                    rows: vec![row as u32],
                });
            }
        }
    }
    groups
}

/// A partition value: NULL, or its text.
fn value(column: &StringArray, row: usize) -> Option<&str> {
    (!column.is_null(row)).then(|| column.value(row))
}

/// How much the open files of one writer may hold.
#[derive(Clone, Copy)]
struct Limits {
    /// Encoded bytes of the open files' unfinished row groups.
    buffered_bytes: usize,
    open_files: usize,
    /// Arrow bytes of the rows held for partitions without an open file.
    pending_bytes: usize,
}

/// The Parquet files being written, one per partition at most.
struct OpenFiles<'a, 's> {
    layout: Layout<'a>,
    properties: WriterProperties,
    settings: &'s FileSettings<'s>,
    limits: Limits,
    /// Open files by partition folder ("" without partitions).
    open: HashMap<String, OpenFile>,
    /// Rows of partitions without an open file, by folder.
    pending: HashMap<String, Pending>,
    pending_bytes: usize,
    row_group_rows: usize,
    /// The number the next file of each partition gets, by lower-cased folder: folders that
    /// differ only in case share one numbering, so none overwrites another's file on a
    /// case-insensitive file system.
    next_file: HashMap<String, usize>,
    finished_bytes: u64,
    /// Writes so far, to tell which file was written least recently.
    writes: u64,
}

#[derive(Default)]
struct Pending {
    batches: Vec<RecordBatch>,
    rows: usize,
    bytes: usize,
}

struct OpenFile {
    writer: ArrowWriter<File>,
    rows: u64,
    last_write: u64,
}

impl<'a, 's> OpenFiles<'a, 's> {
    fn new(layout: Layout<'a>, properties: WriterProperties, settings: &'s FileSettings<'s>, limits: Limits) -> Self {
        let row_group_rows = properties.max_row_group_row_count().unwrap_or(DEFAULT_ROW_GROUP_ROWS);
        Self {
            layout,
            properties,
            settings,
            limits,
            open: HashMap::new(),
            pending: HashMap::new(),
            pending_bytes: 0,
            row_group_rows,
            next_file: HashMap::new(),
            finished_bytes: 0,
            writes: 0,
        }
    }

    /// Takes a partition's rows: into its open file, into a new file while fewer than the limit
    /// are open, or else into memory until they fill a row group or memory runs short. So a
    /// partition among thousands is not split into a file per routed batch.
    fn write(&mut self, folder: &str, batch: &RecordBatch) -> Result<(), ExportError> {
        // An empty batch (an export of no rows) only makes sure there is a file.
        if batch.num_rows() == 0 && !self.next_file.is_empty() {
            return Ok(());
        }
        // Rows waiting for this partition go first, so its rows keep the export's order.
        let waiting = self.pending.contains_key(folder);
        if !waiting && (self.open.contains_key(folder) || self.open.len() < self.limits.open_files) {
            return self.write_to_file(folder, batch);
        }
        let pending = self.pending.entry(folder.to_string()).or_default();
        let bytes = batch.get_array_memory_size();
        pending.rows += batch.num_rows();
        pending.bytes += bytes;
        pending.batches.push(batch.clone());
        self.pending_bytes += bytes;
        if pending.rows >= self.row_group_rows {
            self.write_pending(folder)?;
        }
        while self.pending_bytes > self.limits.pending_bytes {
            let Some(largest) = self
                .pending
                .iter()
                .max_by_key(|(_, pending)| pending.bytes)
                .map(|(folder, _)| folder.clone())
            else {
                break;
            };
            self.write_pending(&largest)?;
        }
        Ok(())
    }

    /// Writes the rows a partition holds in memory to its file.
    fn write_pending(&mut self, folder: &str) -> Result<(), ExportError> {
        let Some(pending) = self.pending.remove(folder) else {
            return Ok(());
        };
        self.pending_bytes -= pending.bytes;
        for batch in &pending.batches {
            self.write_to_file(folder, batch)?;
        }
        Ok(())
    }

    /// Writes `batch` to the partition's files, starting a new file at each chunk boundary.
    fn write_to_file(&mut self, folder: &str, batch: &RecordBatch) -> Result<(), ExportError> {
        let mut offset = 0;
        loop {
            if !self.open.contains_key(folder) {
                self.open_file(folder, batch)?;
            }
            let Some(file) = self.open.get_mut(folder) else {
                return Ok(());
            };
            let room = self
                .settings
                .chunk_rows
                .map_or(u64::MAX, |limit| limit.saturating_sub(file.rows).max(1));
            let take = usize::try_from(room)
                .unwrap_or(usize::MAX)
                .min(batch.num_rows() - offset);
            self.writes += 1;
            file.last_write = self.writes;
            file.rows += take as u64;
            file.writer
                .write(&batch.slice(offset, take))
                .map_err(parquet_error(self.settings.out))?;
            offset += take;
            if self.settings.chunk_rows.is_some_and(|limit| file.rows >= limit) {
                self.finish(folder)?;
            }
            if offset >= batch.num_rows() {
                break;
            }
        }
        self.bound_memory()
    }

    fn open_file(&mut self, folder: &str, batch: &RecordBatch) -> Result<(), ExportError> {
        if self.open.len() >= self.limits.open_files
            && let Some(oldest) = self
                .open
                .iter()
                .min_by_key(|(_, file)| file.last_write)
                .map(|(folder, _)| folder.clone())
        {
            self.finish(&oldest)?;
        }
        let number = self.next_file.entry(folder.to_lowercase()).or_insert(0);
        let index = *number;
        *number += 1;
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ExportError::Io { path, source }
        };
        let file = match &mut self.layout {
            Layout::Files { names, parts } => {
                let path = names.path(index);
                parts.create(path.clone()).map_err(io_error(&path))?
            }
            Layout::Partitioned { root, .. } => {
                let dir = root.join(folder);
                std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
                let path = dir.join(format!("data_{index}.parquet"));
                File::create(&path).map_err(io_error(&path))?
            }
        };
        let writer = ArrowWriter::try_new(file, batch.schema(), Some(self.properties.clone()))
            .map_err(parquet_error(self.settings.out))?;
        self.open.insert(
            folder.to_string(),
            OpenFile {
                writer,
                rows: 0,
                last_write: self.writes,
            },
        );
        Ok(())
    }

    /// Writes out the largest unfinished row groups while together they hold too much.
    fn bound_memory(&mut self) -> Result<(), ExportError> {
        loop {
            let buffered: usize = self.open.values().map(|file| file.writer.in_progress_size()).sum();
            if buffered <= self.limits.buffered_bytes {
                return Ok(());
            }
            let Some(largest) = self.open.values_mut().max_by_key(|file| file.writer.in_progress_size()) else {
                return Ok(());
            };
            largest.writer.flush().map_err(parquet_error(self.settings.out))?;
        }
    }

    fn finish(&mut self, folder: &str) -> Result<(), ExportError> {
        if let Some(mut file) = self.open.remove(folder) {
            file.writer.finish().map_err(parquet_error(self.settings.out))?;
            self.finished_bytes += file.writer.bytes_written() as u64;
        }
        Ok(())
    }

    fn finish_all(&mut self) -> Result<(), ExportError> {
        // Partitions still in memory go into files of their own, each finished at once so no
        // more than the limit are open.
        let waiting: Vec<String> = self.pending.keys().cloned().collect();
        for folder in waiting {
            self.write_pending(&folder)?;
            self.finish(&folder)?;
        }
        let folders: Vec<String> = self.open.keys().cloned().collect();
        for folder in folders {
            self.finish(&folder)?;
        }
        Ok(())
    }

    fn bytes_so_far(&self) -> u64 {
        self.finished_bytes
            + self
                .open
                .values()
                .map(|file| file.writer.bytes_written() as u64)
                .sum::<u64>()
    }
}

fn compression(compression: ParquetCompression) -> Compression {
    match compression {
        ParquetCompression::Snappy => Compression::SNAPPY,
        // DuckDB's default level.
        ParquetCompression::Zstd => Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()),
        ParquetCompression::None => Compression::UNCOMPRESSED,
    }
}

fn parquet_error(out: &Path) -> impl Fn(ParquetError) -> ExportError + '_ {
    move |error| match error {
        ParquetError::ArrowError(message) => ExportError::Text(ArrowError::ExternalError(message.into())),
        other => ExportError::Io {
            path: out.to_path_buf(),
            source: std::io::Error::other(other),
        },
    }
}
