//! Writing an export as CSV: plain or gzip, one file or chunks of N rows, in the encoding, line
//! endings, quoting and NULL string the request's [`CsvShape`](super::shape::CsvShape) asks for.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::Receiver;
use duckdb::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;

use super::batches::Pump;
use super::cast_text::CastColumn;
use super::encode::{CsvStyle, FieldKind, SpecialBytes};
use super::files::{OutputNames, PartFiles};
use super::gzip::{GzipFileWriter, GzipPool};
use super::query::{ExportQuery, WrittenText};
use super::shape::TextEncoding;
use super::transcode::{count_unencodable, first_unencodable, transcode};
use super::{ExportError, ExportRequest, gzip_threads};
use crate::sql_type::SqlType;

/// Text is handed to the file (or the compressor) in blocks of about this size.
const BLOCK_BYTES: usize = 1024 * 1024;

/// What a CSV export wrote.
pub struct CsvWritten {
    pub parts: PartFiles,
    /// Characters the encoding could not hold, written as `?`.
    pub replaced_characters: u64,
}

pub fn write_csv(pump: Pump<'_>, request: &ExportRequest, query: &ExportQuery) -> Result<CsvWritten, ExportError> {
    let shape = &request.shape;
    let style = CsvStyle {
        delimiter: request.delimiter,
        quote: b'"',
        formula_guard: request.formula_guard,
        quoting: shape.quote,
        line_ending: shape.line_ending,
        null_string: shape.null_string.clone(),
    };
    let kinds: Vec<FieldKind> = query
        .columns
        .iter()
        .map(|column| FieldKind {
            free_text: SqlType::holds_free_text(&column.type_name),
            numeric: column.sql_type.is_numeric(),
        })
        .collect();
    let names: Vec<&str> = query.columns.iter().map(|column| column.name.as_str()).collect();
    let io_error = |source| ExportError::Io {
        path: request.out.clone(),
        source,
    };
    let encoding = shape.encoding;
    let mut header = Vec::new();
    let mut replaced_characters = 0;
    if request.header {
        for name in &names {
            check_encodable(
                encoding,
                shape.replace_unencodable,
                name,
                None,
                name,
                &mut replaced_characters,
            )?;
        }
        style.push_record(&mut header, names.iter().map(|name| (Some(*name), FieldKind::TEXT)));
    }
    let pool = match request.gzip_level {
        Some(level) => Some(GzipPool::new(gzip_threads(), level.clamp(1, 9)).map_err(io_error)?),
        None => None,
    };
    let mut files = CsvFiles {
        names: OutputNames::new(&request.out, request.chunk_rows.is_some(), request.gzip_level.is_some()),
        pool: pool.as_ref(),
        header,
        encoding,
        parts: PartFiles::new(pump.job_id),
    };
    let encoder = Encoder {
        query,
        style: &style,
        kinds: &kinds,
        names: &names,
        request,
        encoding,
        replaced_characters,
    };
    let replaced_characters = pump.run(
        &query.select_text_sql,
        &query.text_params(),
        "sluice-encode",
        |batches, bytes_written| encoder.encode_batches(batches, &mut files, bytes_written),
    )?;
    Ok(CsvWritten {
        parts: files.parts,
        replaced_characters,
    })
}

/// Refuses (or counts, when replacing) the characters of `value` the encoding cannot hold.
/// `row` is the data row, 1-based; `None` for the header.
fn check_encodable(
    encoding: TextEncoding,
    replace: bool,
    value: &str,
    row: Option<u64>,
    column: &str,
    replaced: &mut u64,
) -> Result<(), ExportError> {
    if replace {
        *replaced += count_unencodable(encoding, value);
        return Ok(());
    }
    match first_unencodable(encoding, value) {
        None => Ok(()),
        Some(character) => Err(ExportError::Unencodable {
            row,
            column: column.to_string(),
            character,
            encoding: encoding.label(),
        }),
    }
}

/// Turns batches of text columns into CSV records.
struct Encoder<'a> {
    query: &'a ExportQuery,
    style: &'a CsvStyle,
    kinds: &'a [FieldKind],
    names: &'a [&'a str],
    request: &'a ExportRequest,
    encoding: TextEncoding,
    replaced_characters: u64,
}

impl Encoder<'_> {
    /// Writes every batch it receives as CSV records into the export's files, starting a new
    /// file at each chunk boundary; returns the characters replaced. `bytes_written` follows
    /// along for progress.
    fn encode_batches(
        mut self,
        batches: Receiver<RecordBatch>,
        files: &mut CsvFiles<'_>,
        bytes_written: &AtomicU64,
    ) -> Result<u64, ExportError> {
        let io_error = |source| ExportError::Io {
            path: self.request.out.clone(),
            source,
        };
        let checks_encoding = self.encoding == TextEncoding::Windows1252;
        let replace = self.request.shape.replace_unencodable;
        let mut finished_bytes = 0;
        let mut file_index = 0;
        let mut rows_done: u64 = 0;
        let mut current = files.open(file_index).map_err(io_error)?;
        let special = self.style.special_bytes();
        let mut scratch = Vec::with_capacity(64);
        for batch in batches {
            let texts = self.text_columns(&batch).map_err(ExportError::Text)?;
            let mut fields = self.fields(&batch, &texts).map_err(ExportError::Text)?;
            for row in 0..batch.num_rows() {
                rows_done += 1;
                if self.request.chunk_rows.is_some_and(|limit| current.rows >= limit) {
                    finished_bytes += files.close(current).map_err(io_error)?;
                    file_index += 1;
                    current = files.open(file_index).map_err(io_error)?;
                }
                if checks_encoding {
                    for (field, name) in fields.iter().zip(self.names) {
                        // The writer's own text is ASCII, which every encoding holds.
                        if let Field::Text { text, .. } = field
                            && !text.is_null(row)
                        {
                            check_encodable(
                                self.encoding,
                                replace,
                                text.value(row),
                                Some(rows_done),
                                name,
                                &mut self.replaced_characters,
                            )?;
                        }
                    }
                }
                self.push_record(&mut fields, row, &special, &mut current.block, &mut scratch);
                current.rows += 1;
                if current.block.len() >= BLOCK_BYTES {
                    let block = std::mem::replace(&mut current.block, Vec::with_capacity(BLOCK_BYTES + 64 * 1024));
                    files.write_block(&mut current, block).map_err(io_error)?;
                }
            }
            bytes_written.store(finished_bytes + current.sink.bytes_written(), Ordering::Relaxed);
        }
        finished_bytes += files.close(current).map_err(io_error)?;
        bytes_written.store(finished_bytes, Ordering::Relaxed);
        Ok(self.replaced_characters)
    }

    /// The batch's columns as text, but for those the writer writes straight into the record
    /// ([`Encoder::fields`]).
    fn text_columns(&self, batch: &RecordBatch) -> Result<Vec<Option<ArrayRef>>, ArrowError> {
        batch
            .columns()
            .iter()
            .enumerate()
            .map(|(index, column)| match self.query.written_text.get(index) {
                Some(Some(WrittenText::Cast(_))) => Ok(None),
                _ => self.query.column_text(index, column).map(Some),
            })
            .collect()
    }

    fn fields<'b>(&self, batch: &'b RecordBatch, texts: &'b [Option<ArrayRef>]) -> Result<Vec<Field<'b>>, ArrowError> {
        let point = if self.request.shape.decimal_comma { b',' } else { b'.' };
        let mut fields = Vec::with_capacity(texts.len());
        for (index, (column, text)) in batch.columns().iter().zip(texts).enumerate() {
            let kind = self.kinds.get(index).copied().unwrap_or(FieldKind::TEXT);
            let field = match (text, self.query.written_text.get(index)) {
                (Some(text), _) => Field::Text {
                    text: text.as_string::<i32>(),
                    kind,
                },
                (None, Some(Some(WrittenText::Cast(cast_text)))) => Field::Cast {
                    column: cast_text.column(column, point)?,
                    kind,
                    as_is: self.style.writes_as_is(kind, |byte| cast_text.may_write(byte, point)),
                },
                (None, _) => {
                    return Err(ArrowError::InvalidArgumentError(format!(
                        "column {index} of the export has no text"
                    )));
                }
            };
            fields.push(field);
        }
        Ok(fields)
    }

    /// Appends row `row` of the batch's fields as one CSV record.
    fn push_record(
        &self,
        fields: &mut [Field<'_>],
        row: usize,
        special: &SpecialBytes,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) {
        for (index, field) in fields.iter_mut().enumerate() {
            if index > 0 {
                out.push(self.style.delimiter);
            }
            match field {
                Field::Text { text, kind } => {
                    if text.is_null(row) {
                        self.style.push_null(out);
                    } else {
                        self.style
                            .push_field_with(special, out, text.value(row).as_bytes(), *kind);
                    }
                }
                Field::Cast { column, kind, as_is } => {
                    if column.is_null(row) {
                        self.style.push_null(out);
                    } else if *as_is {
                        column.write(row, out);
                    } else {
                        scratch.clear();
                        column.write(row, scratch);
                        self.style.push_field_with(special, out, scratch, *kind);
                    }
                }
            }
        }
        self.style.end_record(out);
    }
}

/// One column of a batch as the encoder writes it.
enum Field<'b> {
    /// Text made by DuckDB, or by the writer's date formats.
    Text { text: &'b StringArray, kind: FieldKind },
    /// Typed values the encoder writes as DuckDB's text; `as_is` when no value of the column
    /// can need quotes.
    Cast {
        column: CastColumn<'b>,
        kind: FieldKind,
        as_is: bool,
    },
}

/// Where CSV text goes: a file, or a file through the gzip pool.
enum FileSink<'p> {
    Plain { out: BufWriter<File>, bytes: u64 },
    Gzip(GzipFileWriter<'p, BufWriter<File>>),
}

impl FileSink<'_> {
    fn write_block(&mut self, block: Vec<u8>) -> std::io::Result<()> {
        match self {
            Self::Plain { out, bytes } => {
                out.write_all(&block)?;
                *bytes += block.len() as u64;
                Ok(())
            }
            Self::Gzip(writer) => writer.write_block(block),
        }
    }

    fn bytes_written(&self) -> u64 {
        match self {
            Self::Plain { bytes, .. } => *bytes,
            Self::Gzip(writer) => writer.bytes_written(),
        }
    }

    /// Flushes everything to disk; returns the file's size.
    fn finish(self) -> std::io::Result<u64> {
        match self {
            Self::Plain { mut out, bytes } => {
                out.flush()?;
                out.get_ref().sync_all()?;
                Ok(bytes)
            }
            Self::Gzip(writer) => {
                let out = writer.finish()?;
                let file = out.into_inner().map_err(|error| error.into_error())?;
                file.sync_all()?;
                Ok(file.metadata()?.len())
            }
        }
    }
}

/// One output file being written: its sink, its text block (UTF-8) and its row count.
struct OpenFile<'p> {
    sink: FileSink<'p>,
    block: Vec<u8>,
    rows: u64,
}

/// Opens the numbered output files of a CSV export, each starting with the byte order mark and
/// the header.
struct CsvFiles<'p> {
    names: OutputNames,
    pool: Option<&'p GzipPool>,
    header: Vec<u8>,
    encoding: TextEncoding,
    parts: PartFiles,
}

impl<'p> CsvFiles<'p> {
    fn open(&mut self, index: usize) -> std::io::Result<OpenFile<'p>> {
        let file = self.parts.create(self.names.path(index))?;
        let out = BufWriter::with_capacity(BLOCK_BYTES, file);
        let sink = match self.pool {
            Some(pool) => FileSink::Gzip(GzipFileWriter::new(pool, out)),
            None => FileSink::Plain { out, bytes: 0 },
        };
        let mut block = Vec::with_capacity(BLOCK_BYTES + 64 * 1024);
        // U+FEFF, which the block's transcoding turns into the encoding's own byte order mark.
        if !self.encoding.bom().is_empty() {
            block.extend_from_slice("\u{FEFF}".as_bytes());
        }
        block.extend_from_slice(&self.header);
        Ok(OpenFile { sink, block, rows: 0 })
    }

    fn write_block(&self, file: &mut OpenFile<'_>, block: Vec<u8>) -> std::io::Result<()> {
        file.sink.write_block(transcode(self.encoding, block))
    }

    /// Writes a file's last block and closes it; returns its size.
    fn close(&self, mut file: OpenFile<'_>) -> std::io::Result<u64> {
        if !file.block.is_empty() {
            let block = std::mem::take(&mut file.block);
            self.write_block(&mut file, block)?;
        }
        file.sink.finish()
    }
}
