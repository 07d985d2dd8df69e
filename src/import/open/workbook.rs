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
//! `.xlsx` and `.xlsm` sheets are streamed cell by cell (see `rendered`), so memory stays flat
//! however long the sheet; calamine reads the other formats a whole sheet at a time.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{Data, DataRef, Dimensions, ExcelDateTime, Reader, SheetVisible, Sheets, open_workbook_auto};

use crate::import::open::column_span::ColumnSpan;
use crate::import::open::input_formats::InputFormat;
use crate::import::open::rendered::{self, Rendering, TextOut};
use crate::import::open::source::{SheetInfo, TextSource, WorkbookError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether `path` is a workbook, by its extension.
pub fn is_workbook(path: &Path) -> bool {
    crate::import::open::input_formats::format_of(path)
        == Some(crate::import::open::input_formats::InputFormat::Workbook)
}

fn open(path: &Path) -> Result<Sheets<BufReader<File>>, WorkbookError> {
    // calamine reads an `.xls` whole as it opens it, and can panic on a damaged one (a formula
    // token cut short): that is this file's error, not the process's end.
    std::panic::catch_unwind(|| open_workbook_auto(path))
        .map_err(|panic| WorkbookError::Open {
            path: path.to_path_buf(),
            message: format!(
                "its reader stopped unexpectedly: {}",
                crate::import::panic_message(&panic)
            ),
        })?
        .map_err(|error| WorkbookError::Open {
            path: path.to_path_buf(),
            message: error.to_string(),
        })
}

/// Opens sheet `sheet` (the first when `None`; names match ignoring case) of the workbook at
/// `path` as text: its columns `columns`, or all its filled ones when `None`.
pub fn open_sheet(path: &Path, sheet: Option<&str>, columns: Option<ColumnSpan>) -> Result<TextSource, WorkbookError> {
    let mut workbook = open(path)?;
    let sheets = workbook.sheet_names();
    let infos = sheet_infos(&mut workbook);
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
    let sheet_name = name.clone();
    let first_column = Arc::new(AtomicU32::new(columns.map_or(0, |span| span.first)));
    let rendering = Rendering {
        format: InputFormat::Workbook,
        first_line: 1,
        sheets: infos,
        sheet: Some(name),
        sheet_first_column: Some(first_column.clone()),
    };
    rendered::spawn(path, "sluice-sheet", rendering, move |out| {
        let mut rows = RowWriter {
            out,
            next_row: 0,
            current: None,
            cells: Vec::new(),
            rows_total: 1,
            first_column: 0,
            columns,
        };
        render_sheet(&mut workbook, &sheet_name, &mut rows, &first_column)?;
        rows.end_row();
        Ok(())
    })
    .map_err(|error| WorkbookError::Open {
        path: path.to_path_buf(),
        message: format!("could not start the sheet reader: {error}"),
    })
}

/// Every sheet's name, size and visibility. Sizes come from what the workbook declares where it
/// declares them (`.xlsx`, `.xlsb`), so no sheet is read for them; the other formats hold their
/// sheets in memory once opened. A reader that fails or panics on a sheet leaves its size unsaid:
/// the sheet is still listed, and reading it says what is wrong.
fn sheet_infos(workbook: &mut Sheets<BufReader<File>>) -> Vec<SheetInfo> {
    let sheets: Vec<(String, bool)> = workbook
        .sheets_metadata()
        .iter()
        .map(|sheet| (sheet.name.clone(), sheet.visible != SheetVisible::Visible))
        .collect();
    sheets
        .into_iter()
        .map(|(name, hidden)| {
            let size = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sheet_size(workbook, &name)))
                .ok()
                .flatten();
            SheetInfo { name, size, hidden }
        })
        .collect()
}

fn sheet_size(workbook: &mut Sheets<BufReader<File>>, sheet: &str) -> Option<(u64, u64)> {
    let declared = match workbook {
        Sheets::Xlsx(xlsx) => {
            let mut cells = xlsx.worksheet_cells_reader(sheet).ok()?;
            let declared = cells.dimensions();
            // A writer that leaves the dimension out, or writes `A1` for an empty sheet
            // (LibreOffice), reads as the one cell A1: the cells tell, when there are few.
            if declared == Dimensions::default() {
                return filled_span(&mut cells);
            }
            declared
        }
        Sheets::Xlsb(xlsb) => xlsb.worksheet_cells_reader(sheet).ok()?.dimensions(),
        _ => {
            let range = workbook.worksheet_range(sheet).ok()?;
            return Some(match (range.start(), range.end()) {
                (Some(start), Some(end)) => span(Dimensions::new(start, end)),
                _ => (0, 0),
            });
        }
    };
    (declared != Dimensions::default()).then(|| span(declared))
}

/// Cells read to size a sheet whose dimension is unsaid: past this many the size stays unsaid,
/// so listing the sheets never reads a big sheet whole.
const CELLS_READ_FOR_SIZE: usize = 100_000;

/// The span of a sheet's filled cells, read from its cells; `None` past [`CELLS_READ_FOR_SIZE`].
fn filled_span(cells: &mut calamine::XlsxCellReader<'_, BufReader<File>>) -> Option<(u64, u64)> {
    let mut filled: Option<Dimensions> = None;
    for _ in 0..CELLS_READ_FOR_SIZE {
        let Some(cell) = cells.next_cell().ok()? else {
            return Some(filled.map_or((0, 0), span));
        };
        if render_ref(cell.get_value()).is_none() {
            continue;
        }
        let at = cell.get_position();
        filled = Some(match filled {
            None => Dimensions::new(at, at),
            Some(seen) => Dimensions::new(
                (seen.start.0.min(at.0), seen.start.1.min(at.1)),
                (seen.end.0.max(at.0), seen.end.1.max(at.1)),
            ),
        });
    }
    None
}

fn span(dimensions: Dimensions) -> (u64, u64) {
    let count = |start: u32, end: u32| u64::from(end.saturating_sub(start)) + 1;
    (
        count(dimensions.start.0, dimensions.end.0),
        count(dimensions.start.1, dimensions.end.1),
    )
}

/// Renders the sheet's rows into `rows`; an error is said as text, for the reader to report.
fn render_sheet(
    workbook: &mut Sheets<BufReader<File>>,
    sheet: &str,
    rows: &mut RowWriter<'_>,
    first_column: &AtomicU32,
) -> Result<(), String> {
    if let Sheets::Xlsx(xlsx) = workbook {
        let mut cells = xlsx.worksheet_cells_reader(sheet).map_err(|error| error.to_string())?;
        let declared = cells.dimensions();
        rows.rows_total = u64::from(declared.end.0) + 1;
        rows.start_at(declared.start.1, first_column);
        while let Some(cell) = cells.next_cell().map_err(|error| error.to_string())? {
            let (row, column) = cell.get_position();
            // A cell left of the range the sheet declares would land in another column's field:
            // said, not misplaced.
            if rows.columns.is_none() && column < rows.first_column && render_ref(cell.get_value()).is_some() {
                return Err(format!(
                    "the cell in row {}, column {} lies outside the range the sheet declares (from column {})",
                    row + 1,
                    column + 1,
                    rows.first_column + 1
                ));
            }
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
    rows.start_at(left, first_column);
    rows.rows_total = u64::from(range.end().map_or(top, |end| end.0)) + 1;
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

/// Gathers a row's cells and writes rows as lines, blank lines for empty rows.
struct RowWriter<'o> {
    out: &'o mut TextOut,
    /// The sheet row (0-based) the next line written is.
    next_row: u32,
    /// The row being gathered.
    current: Option<u32>,
    /// Its non-empty cells: (column, text).
    cells: Vec<(u32, String)>,
    rows_total: u64,
    /// The sheet's first column that holds a cell: a row's field 0. Columns left of a sheet's
    /// filled range hold nothing, and would read as empty unnamed columns.
    first_column: u32,
    /// The columns read, when only some are: the others' cells are another table's.
    columns: Option<ColumnSpan>,
}

impl RowWriter<'_> {
    /// Starts rows at `filled_from`, the sheet's first filled column, or at the first column
    /// read when only some are; says which to the sniffer through `published`.
    fn start_at(&mut self, filled_from: u32, published: &AtomicU32) {
        self.first_column = self.columns.map_or(filled_from, |span| span.first);
        published.store(self.first_column, Ordering::Release);
    }

    /// Takes one non-empty cell; cells come row by row. Returns false when the reader is gone.
    fn cell(&mut self, row: u32, column: u32, text: String) -> bool {
        if self.columns.is_some_and(|span| !span.contains(column)) {
            return true;
        }
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
            if !self.out.end_line() {
                return false;
            }
            self.next_row += 1;
        }
        self.cells.sort_by_key(|(column, _)| *column);
        // A cell in column `c` is the row's field `c - first_column`.
        let mut next_column = self.first_column;
        for (column, text) in self.cells.drain(..) {
            self.out.skip_fields(column.saturating_sub(next_column) as usize);
            self.out.field(Some(&text));
            next_column = column + 1;
        }
        self.next_row = row + 1;
        self.out.progress(u64::from(self.next_row), self.rows_total);
        self.out.end_line()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(cells: &[(u32, u32, &str)]) -> String {
        rendered_from(0, cells)
    }

    fn rendered_from(first_column: u32, cells: &[(u32, u32, &str)]) -> String {
        rendered_part(first_column, None, cells)
    }

    fn rendered_part(first_column: u32, columns: Option<ColumnSpan>, cells: &[(u32, u32, &str)]) -> String {
        let (text, _) = crate::import::open::rendered::tests::rendered(|out| {
            let mut rows = RowWriter {
                out,
                next_row: 0,
                current: None,
                cells: Vec::new(),
                rows_total: 10,
                first_column: 0,
                columns,
            };
            rows.start_at(first_column, &AtomicU32::new(0));
            for (row, column, text) in cells {
                assert!(rows.cell(*row, *column, text.to_string()));
            }
            rows.end_row();
        });
        text
    }

    #[test]
    fn a_sheet_read_by_its_columns_f_to_k_leaves_the_table_beside_them_out() {
        let span = ColumnSpan::parse("C:D").ok();
        let cells = [
            (0, 0, "a"),
            (0, 2, "c"),
            (0, 3, "d"),
            (1, 0, "x"),
            (2, 3, "z"),
            (2, 4, "e"),
        ];
        // Row 2 holds only a cell left of the span: a blank line, so rows keep their numbers.
        assert_eq!(rendered_part(0, span, &cells), "c,d\n\n,z\n");
    }

    #[test]
    fn a_sheet_filled_from_column_c_starts_its_rows_there() {
        let text = rendered_from(2, &[(0, 2, "a"), (0, 4, "c"), (1, 3, "b")]);
        assert_eq!(text, "a,,c\n,b\n");
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
