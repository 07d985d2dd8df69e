//! Excel and OpenDocument workbooks (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`), read with
//! calamine and handed to the import as text, one line per sheet row.
//!
//! Rendering a sheet as CSV text lets everything an import does for a CSV hold for a sheet
//! unchanged: header and title detection, typing, the preview, failed rows with their raw text,
//! the unique rule's second reading. Each cell is written in the form its type says, so the
//! typing reads the cells' own types: numbers as numbers (whole floats without `.0`), dates and
//! times in ISO form (Excel's date serials become dates), booleans as `true`/`false`, an error
//! cell as its code (`#DIV/0!`, which fails a typed column), a formula as its cached value.
//! Line `n` is sheet row `n`: empty rows are blank lines, and a cell's own line breaks do not
//! count as lines (`Dialect::rows_are_lines`).
//!
//! `.xlsx` and `.xlsm` sheets are streamed cell by cell on a thread of their own through a
//! bounded channel, so memory stays flat however long the sheet; calamine reads the other
//! formats a whole sheet at a time.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use calamine::{Data, DataRef, ExcelDateTime, Reader, Sheets, open_workbook_auto};
use crossbeam_channel::{Receiver, Sender, bounded};

use super::source::{Packing, SourceEncoding, TextSource};

/// Rendered text sent to the reader at a time.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks the sheet thread may run ahead of the reader.
const CHUNKS_AHEAD: usize = 4;
/// Extensions calamine reads.
const WORKBOOK_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "xla", "ods"];

/// Why a workbook or its sheet cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("cannot read the workbook {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("{path} has no sheet '{sheet}'; its sheets: {sheets}")]
    NoSuchSheet {
        path: PathBuf,
        sheet: String,
        sheets: String,
    },
    #[error("{path} has no sheets")]
    NoSheets { path: PathBuf },
}

/// Whether `path` is a workbook, by its extension.
pub fn is_workbook(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| WORKBOOK_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str()))
}

/// The sheets of the workbook at `path`, in workbook order.
pub fn sheet_names(path: &Path) -> Result<Vec<String>, WorkbookError> {
    Ok(open(path)?.sheet_names())
}

fn open(path: &Path) -> Result<Sheets<BufReader<File>>, WorkbookError> {
    open_workbook_auto(path).map_err(|error| WorkbookError::Open {
        path: path.to_path_buf(),
        message: error.to_string(),
    })
}

/// Opens sheet `sheet` (the first when `None`; names match ignoring case) of the workbook at
/// `path` as text.
pub fn open_sheet(path: &Path, sheet: Option<&str>) -> Result<TextSource, WorkbookError> {
    let mut workbook = open(path)?;
    let sheets = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => sheets
            .iter()
            .find(|name| name.as_str() == wanted)
            .or_else(|| sheets.iter().find(|name| name.eq_ignore_ascii_case(wanted)))
            .cloned()
            .ok_or_else(|| WorkbookError::NoSuchSheet {
                path: path.to_path_buf(),
                sheet: wanted.to_string(),
                sheets: sheets.join(", "),
            })?,
        None => sheets.first().cloned().ok_or_else(|| WorkbookError::NoSheets {
            path: path.to_path_buf(),
        })?,
    };
    let bytes_total = std::fs::metadata(path).map_or(0, |metadata| metadata.len());
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (sender, receiver) = bounded(CHUNKS_AHEAD);
    let mut rows = RowWriter {
        out: Vec::with_capacity(CHUNK_BYTES * 2),
        sender,
        next_row: 0,
        current: None,
        cells: Vec::new(),
        progress: Progress {
            bytes_read: bytes_read.clone(),
            bytes_total,
            rows_total: 1,
        },
    };
    let sheet_name = name.clone();
    let spawned = std::thread::Builder::new().name("sluice-sheet".into()).spawn(move || {
        let result = render_sheet(&mut workbook, &sheet_name, &mut rows);
        let _ = match result {
            Ok(()) => rows.finish(),
            Err(message) => rows.sender.send(Err(message)),
        };
    });
    if let Err(error) = spawned {
        return Err(WorkbookError::Open {
            path: path.to_path_buf(),
            message: format!("could not start the sheet reader: {error}"),
        });
    }
    Ok(TextSource {
        reader: Box::new(ChunkReader {
            receiver,
            chunk: Vec::new(),
            position: 0,
        }),
        encoding: SourceEncoding {
            encoding: encoding_rs::UTF_8,
            bom_len: 0,
        },
        packing: Packing::Workbook,
        bytes_total,
        bytes_read,
        malformed: None,
        sheets,
        sheet: Some(name),
    })
}

/// Renders the sheet's rows into `rows`; an error is said as text, for the reader to report.
fn render_sheet(workbook: &mut Sheets<BufReader<File>>, sheet: &str, rows: &mut RowWriter) -> Result<(), String> {
    if let Sheets::Xlsx(xlsx) = workbook {
        let mut cells = xlsx.worksheet_cells_reader(sheet).map_err(|error| error.to_string())?;
        rows.progress.rows_total = u64::from(cells.dimensions().end.0) + 1;
        while let Some(cell) = cells.next_cell().map_err(|error| error.to_string())? {
            let (row, column) = cell.get_position();
            if let Some(text) = render_ref(cell.get_value())
                && !rows.cell(row, column, text)
            {
                return Ok(());
            }
        }
        return Ok(());
    }
    let range = workbook.worksheet_range(sheet).map_err(|error| error.to_string())?;
    let Some((top, left)) = range.start() else {
        return Ok(());
    };
    rows.progress.rows_total = u64::from(range.end().map_or(top, |end| end.0)) + 1;
    for (offset, cells) in range.rows().enumerate() {
        let row = top + offset as u32;
        for (index, value) in cells.iter().enumerate() {
            if let Some(text) = render(value)
                && !rows.cell(row, left + index as u32, text)
            {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// How far the rendering is, as the share of the file's bytes its rows stand for.
struct Progress {
    bytes_read: Arc<AtomicU64>,
    bytes_total: u64,
    rows_total: u64,
}

/// Gathers a row's cells and writes rows as CSV lines, blank lines for empty rows.
struct RowWriter {
    out: Vec<u8>,
    sender: Sender<Result<Vec<u8>, String>>,
    /// The sheet row (0-based) the next line written is.
    next_row: u32,
    /// The row being gathered.
    current: Option<u32>,
    /// Its non-empty cells: (column, text).
    cells: Vec<(u32, String)>,
    progress: Progress,
}

impl RowWriter {
    /// Takes one non-empty cell; cells come row by row. Returns false when the reader is gone.
    fn cell(&mut self, row: u32, column: u32, text: String) -> bool {
        if self.current != Some(row) {
            if !self.end_row() {
                return false;
            }
            self.current = Some(row);
        }
        self.cells.push((column, text));
        true
    }

    /// Writes the gathered row (after blank lines for the empty rows above it).
    fn end_row(&mut self) -> bool {
        let Some(row) = self.current.take() else {
            return true;
        };
        while self.next_row < row {
            self.out.push(b'\n');
            self.next_row += 1;
        }
        self.cells.sort_by_key(|(column, _)| *column);
        // A cell in column `c` is the row's field `c` (the row starts at column A): a delimiter
        // for every column since the previous cell.
        let mut previous: Option<u32> = None;
        for (column, text) in self.cells.drain(..) {
            let delimiters = match previous {
                None => column,
                Some(previous) => column.saturating_sub(previous),
            };
            self.out.extend(std::iter::repeat_n(b',', delimiters as usize));
            write_field(&mut self.out, &text);
            previous = Some(column);
        }
        self.out.push(b'\n');
        self.next_row = row + 1;
        let done = u64::from(self.next_row).min(self.progress.rows_total);
        self.progress.bytes_read.store(
            self.progress.bytes_total * done / self.progress.rows_total.max(1),
            Ordering::Relaxed,
        );
        if self.out.len() >= CHUNK_BYTES {
            return self.send();
        }
        true
    }

    fn send(&mut self) -> bool {
        let chunk = std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK_BYTES * 2));
        self.sender.send(Ok(chunk)).is_ok()
    }

    fn finish(mut self) -> Result<(), crossbeam_channel::SendError<Result<Vec<u8>, String>>> {
        if self.end_row() && !self.out.is_empty() {
            self.send();
        }
        self.progress
            .bytes_read
            .store(self.progress.bytes_total, Ordering::Relaxed);
        Ok(())
    }
}

/// Writes a field, quoted when it holds the delimiter, a quote or a line break.
fn write_field(out: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        for byte in text.bytes() {
            if byte == b'"' {
                out.push(b'"');
            }
            out.push(byte);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// The text of a streamed cell; `None` for an empty one.
fn render_ref(value: &DataRef<'_>) -> Option<String> {
    Some(match value {
        DataRef::Empty => return None,
        DataRef::Int(number) => number.to_string(),
        DataRef::Float(number) => float_text(*number),
        DataRef::String(text) => text.clone(),
        DataRef::SharedString(text) => text.to_string(),
        DataRef::Bool(flag) => flag.to_string(),
        DataRef::DateTime(moment) => date_text(moment),
        DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => text.clone(),
        DataRef::Error(error) => error.to_string(),
    })
}

/// The text of a cell of a sheet read whole; `None` for an empty one.
fn render(value: &Data) -> Option<String> {
    Some(match value {
        Data::Empty => return None,
        Data::Int(number) => number.to_string(),
        Data::Float(number) => float_text(*number),
        Data::String(text) => text.clone(),
        Data::Bool(flag) => flag.to_string(),
        Data::DateTime(moment) => date_text(moment),
        Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Error(error) => error.to_string(),
    })
}

/// Every number in a sheet is a float; a whole one is written as the whole number it is.
fn float_text(number: f64) -> String {
    const EXACT_WHOLE: f64 = 9_007_199_254_740_992.0;
    if number.fract() == 0.0 && number.abs() < EXACT_WHOLE {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}

/// A date serial as an ISO date, a time of day or both; a duration as its number of days.
fn date_text(moment: &ExcelDateTime) -> String {
    if !moment.is_datetime() {
        return float_text(moment.as_f64());
    }
    let Some(datetime) = moment.as_datetime() else {
        return float_text(moment.as_f64());
    };
    let time = datetime.time();
    let has_time = time != chrono::NaiveTime::MIN;
    let fraction = if datetime.and_utc().timestamp_subsec_millis() > 0 {
        "%.3f"
    } else {
        ""
    };
    if moment.as_f64() < 1.0 && moment.as_f64() >= 0.0 {
        datetime.format(&format!("%H:%M:%S{fraction}")).to_string()
    } else if has_time {
        datetime.format(&format!("%Y-%m-%d %H:%M:%S{fraction}")).to_string()
    } else {
        datetime.format("%Y-%m-%d").to_string()
    }
}

/// The sheet's text, chunk by chunk as the sheet thread renders it.
struct ChunkReader {
    receiver: Receiver<Result<Vec<u8>, String>>,
    chunk: Vec<u8>,
    position: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position >= self.chunk.len() {
            match self.receiver.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.position = 0;
                }
                Ok(Err(message)) => return Err(io::Error::other(message)),
                Err(_) => return Ok(0),
            }
        }
        let count = buf.len().min(self.chunk.len() - self.position);
        buf[..count].copy_from_slice(&self.chunk[self.position..self.position + count]);
        self.position += count;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(cells: &[(u32, u32, &str)]) -> String {
        let (sender, receiver) = bounded(64);
        let mut rows = RowWriter {
            out: Vec::new(),
            sender,
            next_row: 0,
            current: None,
            cells: Vec::new(),
            progress: Progress {
                bytes_read: Arc::new(AtomicU64::new(0)),
                bytes_total: 100,
                rows_total: 10,
            },
        };
        for (row, column, text) in cells {
            assert!(rows.cell(*row, *column, text.to_string()));
        }
        rows.finish().unwrap();
        let mut text = Vec::new();
        while let Ok(Ok(chunk)) = receiver.try_recv() {
            text.extend(chunk);
        }
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn rows_keep_their_sheet_row_and_cells_their_column() {
        let text = rendered(&[
            (1, 0, "title"),
            (3, 0, "id"),
            (3, 2, "note, quoted"),
            (4, 1, "two\nlines"),
            (4, 2, "say \"hi\""),
        ]);
        assert_eq!(
            text,
            "\ntitle\n\nid,,\"note, quoted\"\n,\"two\nlines\",\"say \"\"hi\"\"\"\n"
        );
    }

    #[test]
    fn numbers_are_written_as_the_numbers_they_are() {
        assert_eq!(float_text(42.0), "42");
        assert_eq!(float_text(-0.5), "-0.5");
        assert_eq!(float_text(1e20), "100000000000000000000");
        assert_eq!(float_text(0.1 + 0.2), "0.30000000000000004");
    }
}
