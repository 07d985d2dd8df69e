//! Where an export is going, as sets of choices known to work there. A preset only fills fields
//! of the request; every one stays the caller's to change afterwards. The window offers them, and
//! the round-trip tests read each one back.

use super::shape::{CsvShape, LineEnding, QuoteStyle, TextEncoding};
use super::{ExportFormat, ExportRequest, ParquetCompression};

/// Where an export is going, as a set of choices known to work there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// CSV for Excel on Windows: UTF-8 with a BOM, CRLF, dates Excel reads, formula guard on.
    ExcelWindows,
    /// CSV for Excel on a Mac: as for Windows, but with LF line endings.
    ExcelMac,
    /// CSV for PostgreSQL's `COPY ... FROM`: every field quoted, NULL as `\N`.
    PostgresCopy,
    /// Parquet compressed with zstd; the partition columns are left to the user.
    DataLake,
}

impl Preset {
    /// Every preset, in the order the window lists them.
    pub const ALL: [Preset; 4] = [Self::ExcelWindows, Self::ExcelMac, Self::PostgresCopy, Self::DataLake];

    /// The preset's name in the window.
    pub fn label(&self) -> &'static str {
        match self {
            Self::ExcelWindows => "Excel on Windows",
            Self::ExcelMac => "Excel on a Mac",
            Self::PostgresCopy => "PostgreSQL COPY",
            Self::DataLake => "Data lake (Parquet)",
        }
    }

    /// What the preset sets, in the one line the window shows under it.
    pub fn explanation(&self) -> &'static str {
        match self {
            Self::ExcelWindows => {
                "UTF-8 with a BOM so Excel reads accents right, CRLF, dates Excel reads in every locale, formula guard on"
            }
            Self::ExcelMac => "UTF-8 with a BOM, LF line endings, dates Excel reads in every locale, formula guard on",
            Self::PostgresCopy => {
                "every field quoted, NULL as \\N: COPY t FROM 'file' (FORMAT csv, HEADER, NULL '\\N')"
            }
            Self::DataLake => "Parquet compressed with zstd; pick columns to partition by (col=value folders)",
        }
    }

    /// What the preset sets.
    pub fn choice(&self) -> PresetChoice {
        let excel = |line_ending| CsvShape {
            encoding: TextEncoding::Utf8Bom,
            line_ending,
            date_format: Some("%Y-%m-%d".into()),
            timestamp_format: Some("%Y-%m-%d %H:%M:%S".into()),
            ..CsvShape::default()
        };
        let csv = |shape, formula_guard| PresetChoice {
            shape: Some(shape),
            parquet_compression: None,
            delimiter: b',',
            header: true,
            formula_guard,
        };
        match self {
            Self::ExcelWindows => csv(excel(LineEnding::CrLf), true),
            Self::ExcelMac => csv(excel(LineEnding::Lf), true),
            Self::PostgresCopy => csv(
                CsvShape {
                    quote: QuoteStyle::All,
                    null_string: "\\N".into(),
                    ..CsvShape::default()
                },
                false,
            ),
            Self::DataLake => PresetChoice {
                shape: None,
                parquet_compression: Some(ParquetCompression::Zstd),
                delimiter: b',',
                header: true,
                formula_guard: false,
            },
        }
    }

    /// Fills the request's fields the preset sets: a CSV preset keeps a CSV request's format
    /// (gzip, chunks) and makes any other one CSV.
    pub fn apply(&self, request: &mut ExportRequest) {
        let choice = self.choice();
        match (choice.shape, choice.parquet_compression) {
            (Some(shape), _) => {
                request.shape = shape;
                request.format = ExportFormat::Csv;
            }
            (None, Some(compression)) => {
                request.parquet.compression = compression;
                request.format = ExportFormat::Parquet;
            }
            (None, None) => {}
        }
        request.delimiter = choice.delimiter;
        request.header = choice.header;
        request.formula_guard = choice.formula_guard;
    }
}

/// The fields a preset sets: a CSV shape, or Parquet with its compression; and the delimiter,
/// header and formula guard.
#[derive(Clone, Debug, PartialEq)]
pub struct PresetChoice {
    /// The CSV shape, for a CSV preset; `None` for Parquet.
    pub shape: Option<CsvShape>,
    /// The compression, for a Parquet preset; `None` for CSV.
    pub parquet_compression: Option<ParquetCompression>,
    /// The byte between CSV fields.
    pub delimiter: u8,
    /// Whether CSV files start with a line of the column names.
    pub header: bool,
    /// Whether text a spreadsheet would run as a formula is prefixed with `'`.
    pub formula_guard: bool,
}

impl PresetChoice {
    /// Whether the preset makes the export Parquet.
    pub fn is_parquet(&self) -> bool {
        self.parquet_compression.is_some()
    }
}
