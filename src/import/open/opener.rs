//! Opening an input by its format: a workbook's sheet, NDJSON and Parquet rendered as text by
//! their readers, anything else as delimited text, packed or not (`source`). The one place that
//! knows every reader, so the readers and the text source below them know none of each other.

use std::path::Path;

use encoding_rs::Encoding;

use crate::import::open::source::{FileToRead, SourceError, TextSource, open_delimited};

/// Opens `path`, decompressing and transcoding as needed. `encoding` overrides detection. A
/// workbook is read as the text of its sheet `sheet` (the first when `None`), of its columns
/// `columns` (all when `None`).
pub fn open_text(
    path: &Path,
    encoding: Option<&'static Encoding>,
    sheet: Option<&str>,
    columns: Option<crate::import::ColumnSpan>,
) -> Result<TextSource, SourceError> {
    if crate::import::open::workbook::is_workbook(path) {
        return Ok(crate::import::open::workbook::open_sheet(path, sheet, columns)?);
    }
    if let Some(columns) = columns {
        return Err(SourceError::ColumnsOfText {
            path: path.to_path_buf(),
            columns,
        });
    }
    if crate::import::open::ndjson::is_ndjson(path) {
        return crate::import::open::ndjson::open_ndjson(path);
    }
    if crate::import::open::parquet::is_parquet(path) {
        return crate::import::open::parquet::open_parquet(path);
    }
    open_delimited(path, encoding)
}

impl FileToRead {
    pub fn open(&self) -> Result<TextSource, SourceError> {
        open_text(&self.path, Some(self.encoding), self.sheet.as_deref(), self.columns)
    }
}
