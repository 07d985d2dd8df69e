//! What the fuzzer feeds its inputs to. Each target returns `Err` with a description when the
//! input broke a promise without panicking (an accounting that does not add up, a reader that
//! never ends); a panic is caught by the caller.

use std::path::{Path, PathBuf};

use sluice::engine::run_import;
use sluice::export::DateText;
use sluice::import::{
    ColumnFormat, ColumnSpec, ColumnType, Dialect, ImportMode, ImportRequest, RecordReader, SchemaFile, SniffHints,
    ValueFormat, sniff, strict_column_type,
};
use sluice::oracle::{check_accounting, compare_with_csv_crate};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::{Store, StoreOptions};

/// Tables an import target creates before it starts a fresh database, so the file stays small.
const IMPORTS_PER_DATABASE: u64 = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// The record reader, with a dialect chosen by the first byte.
    Records,
    /// The sniffer and the decoder behind it, on the input as a file.
    Sniff,
    /// The value parsers and type inference: the first line is a date format, the rest values.
    Values,
    /// A whole import (decoding, sniffing, inference, parsing, validation, the append), checking
    /// the accounting: imported + failed = read, and the table and failed rows hold exactly those.
    Import,
}

impl Target {
    pub const ALL: [Target; 4] = [Self::Records, Self::Sniff, Self::Values, Self::Import];

    pub fn name(self) -> &'static str {
        match self {
            Self::Records => "records",
            Self::Sniff => "sniff",
            Self::Values => "values",
            Self::Import => "import",
        }
    }
}

/// What a target keeps between inputs: a folder for input files and a database.
pub struct Workspace {
    dir: tempfile::TempDir,
    store: Option<Store>,
    imports: u64,
}

impl Workspace {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            dir: tempfile::tempdir()?,
            store: None,
            imports: 0,
        })
    }

    fn input_file(&self, input: &[u8]) -> anyhow::Result<PathBuf> {
        let path = self.dir.path().join("input.csv");
        std::fs::write(&path, input)?;
        Ok(path)
    }

    fn store(&mut self) -> anyhow::Result<&Store> {
        if self.imports.is_multiple_of(IMPORTS_PER_DATABASE) || self.store.is_none() {
            self.store = None;
            let path = self.dir.path().join("fuzz.duckdb");
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(path.with_extension("duckdb.wal"));
            let options = StoreOptions {
                memory_limit: Some("256MB".into()),
                threads: Some(1),
            };
            self.store = Some(Store::open(&path, &options)?);
        }
        self.imports += 1;
        self.store.as_ref().ok_or_else(|| anyhow::anyhow!("no database"))
    }
}

/// Runs `input` through `target`.
pub fn run(target: Target, input: &[u8], workspace: &mut Workspace) -> Result<(), String> {
    match target {
        Target::Records => records(input),
        Target::Sniff => sniff_then_import(input, workspace),
        Target::Values => {
            values(input);
            value_round_trips(input)
        }
        Target::Import => import(input, workspace),
    }
}

fn records(input: &[u8]) -> Result<(), String> {
    let Some((&choice, text)) = input.split_first() else {
        return Ok(());
    };
    let dialect = Dialect {
        delimiter: [b',', b';', b'\t', b'|'][usize::from(choice & 3)],
        quote: if choice & 4 == 0 { b'"' } else { b'\'' },
        escape: (choice & 8 != 0).then_some(b'\\'),
        spaces_before_quotes: choice & 16 != 0,
        spaced_separator: choice & 80 == 80,
        rows_are_lines: choice & 32 != 0,
    };
    // Where the two readers share a dialect, the `csv` crate is the oracle: record for record and
    // field for field, up to the first record Sluice recovered from (an unclosed quote, which a
    // plain reader lets run to the end of the file instead).
    let plain = dialect.escape.is_none() && !dialect.spaces_before_quotes && !dialect.rows_are_lines;
    let mut oracle = csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut expected = csv::ByteRecord::new();
    let mut reader = RecordReader::new(text, dialect);
    let mut records = 0usize;
    let mut last_line = 0;
    let mut comparing = plain;
    loop {
        match reader.next_record() {
            Ok(Some(record)) => {
                records += 1;
                if record.line < last_line {
                    return Err(format!(
                        "record {records} starts at line {} after line {last_line}",
                        record.line
                    ));
                }
                last_line = record.line;
                // Every record holds at least one byte or one line end: more records than that
                // means the reader stopped moving.
                if records > text.len() + 1 {
                    return Err(format!("{records} records from {} bytes", text.len()));
                }
                comparing &= record.defect.is_none();
                if comparing {
                    match oracle.read_byte_record(&mut expected) {
                        Ok(true) => {}
                        Ok(false) => {
                            return Err(format!(
                                "record {records} (line {}) is not one to the csv crate",
                                record.line
                            ));
                        }
                        Err(_) => comparing = false,
                    }
                }
                if comparing && !record.fields().eq(expected.iter()) {
                    return Err(format!(
                        "record {records} (line {}): Sluice reads {:?}, the csv crate {:?}",
                        record.line,
                        record.fields().map(String::from_utf8_lossy).collect::<Vec<_>>(),
                        expected.iter().map(String::from_utf8_lossy).collect::<Vec<_>>()
                    ));
                }
            }
            Ok(None) => {
                if comparing && matches!(oracle.read_byte_record(&mut expected), Ok(true)) {
                    return Err(format!(
                        "the csv crate reads a record after Sluice's last: {:?}",
                        expected.iter().map(String::from_utf8_lossy).collect::<Vec<_>>()
                    ));
                }
                return Ok(());
            }
            Err(_) => return Ok(()),
        }
    }
}

fn values(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let values: Vec<&str> = lines.collect();
    let separators = [None, Some('.'), Some(','), Some(' '), Some('\'')];
    let pick = first.len();
    let format = ValueFormat {
        format: (!pick.is_multiple_of(3)).then(|| first.to_string()),
        decimal_separator: separators[pick % 3].filter(|c| *c != ' '),
        thousands: separators[pick % 5],
        null_markers: Some(values.iter().take(2).map(|value| value.to_string()).collect()),
        checkmark: pick.is_multiple_of(2).then(|| "x".to_string()),
        currency: pick.is_multiple_of(7).then_some('$'),
    };
    let column = ColumnFormat::new(&format);
    let mut number = String::new();
    for value in &values {
        let _ = column.parse_date(value);
        let _ = column.parse_timestamp(value);
        let _ = column.parse_bool(value);
        let _ = column.is_null_marker(value);
        let _ = column.normalize_number(value, &mut number);
    }
    let _ = strict_column_type(values.iter().copied());
    let _ = column.describe();
}

/// The sniffer's reading fed to an import: what it promised (the columns and their names) is the
/// table the import makes, and a file it could read is not refused as a whole.
fn sniff_then_import(input: &[u8], workspace: &mut Workspace) -> Result<(), String> {
    let path = workspace.input_file(input).map_err(|error| error.to_string())?;
    // A file Sluice cannot read is an error to report, not a finding.
    let Ok(sniffed) = sniff(&path, &SniffHints::default()) else {
        return Ok(());
    };
    let table = format!("fuzz_{}", workspace.imports);
    let store = workspace.store().map_err(|error| error.to_string())?;
    let summary = match run_import(
        store,
        &ImportRequest::new(&path, &table),
        &mut NoProgress,
        &CancelToken::new(),
    ) {
        Ok(summary) => summary,
        Err(failure) => return Err(format!("sniffed, then refused: {}", failure.error)),
    };
    let mut statement = store
        .conn()
        .prepare("SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index")
        .map_err(|error| error.to_string())?;
    let columns: Vec<String> = statement
        .query_map([&table], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|error| error.to_string())?;
    if columns != sniffed.layout.columns {
        return Err(format!(
            "sniffed columns {:?}, the table has {columns:?}",
            sniffed.layout.columns
        ));
    }
    check_accounting(store, &table, 0, &summary)?;
    store
        .conn()
        .execute_batch(&format!("DROP TABLE {}", sluice::sql::quote_ident(&table)))
        .map_err(|error| error.to_string())
}

/// Date formats the export writes and the import reads, each with a four-digit year.
const DATE_FORMATS: [&str; 5] = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d"];
/// Timestamp formats as the export writes them (DuckDB's `strftime`, where `%f` is microseconds)
/// and as the import reads them (chrono's, where it is `%.f`).
const TIMESTAMP_FORMATS: [(&str, &str); 3] = [
    ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S%.f"),
    ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S"),
    ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M"),
];
/// 0001-01-01 and 9999-12-31 as days since 1970-01-01: the years a four-digit format holds.
const FIRST_DAY: i64 = -719_162;
const LAST_DAY: i64 = 2_932_896;

/// The input's bytes as numbers, eight at a time, and each written by Sluice's writer (or Rust's,
/// which DuckDB's text of numbers matches) and read back by Sluice's parser: the value must come
/// back unchanged.
fn value_round_trips(input: &[u8]) -> Result<(), String> {
    let mut text = String::new();
    let mut normalized = String::new();
    for chunk in input.chunks(8) {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        let raw = i64::from_le_bytes(bytes);
        let days = (FIRST_DAY + raw.rem_euclid(LAST_DAY - FIRST_DAY + 1)) as i32;
        for format in DATE_FORMATS {
            let Some(writer) = DateText::parse(format) else {
                return Err(format!("the export cannot write the date format {format}"));
            };
            text.clear();
            writer.write_date(days, &mut text);
            let reader = ColumnFormat::new(&ValueFormat {
                format: Some(format.into()),
                ..ValueFormat::default()
            });
            if reader.parse_date(&text) != Some(days) {
                return Err(format!(
                    "day {days} written {text:?} ({format}) reads {:?}",
                    reader.parse_date(&text)
                ));
            }
        }
        let micros_of_day = raw.rem_euclid(86_400_000_000);
        let micros = i64::from(days) * 86_400_000_000 + micros_of_day;
        for (format, read_format) in TIMESTAMP_FORMATS {
            let Some(writer) = DateText::parse(format) else {
                return Err(format!("the export cannot write the timestamp format {format}"));
            };
            text.clear();
            writer.write_timestamp(micros, &mut text);
            let reader = ColumnFormat::new(&ValueFormat {
                format: Some(read_format.into()),
                ..ValueFormat::default()
            });
            // A format without fractions (or seconds) keeps the moment to its precision.
            let precision: i64 = if format.contains("%f") {
                1
            } else if format.contains("%S") {
                1_000_000
            } else {
                60_000_000
            };
            let expected = micros - micros.rem_euclid(precision);
            if reader.parse_timestamp(&text) != Some(expected) {
                return Err(format!(
                    "moment {micros} written {text:?} ({format}) reads {:?}, not {expected}",
                    reader.parse_timestamp(&text)
                ));
            }
        }
        number_round_trips(raw, &mut text, &mut normalized)?;
    }
    Ok(())
}

/// A whole number with thousands separators and a floating-point number in its shortest text,
/// with a decimal point and with a decimal comma, read back by the import's number parser.
fn number_round_trips(raw: i64, text: &mut String, normalized: &mut String) -> Result<(), String> {
    let conventions = [
        (Some('.'), Some(',')),
        (Some(','), Some('.')),
        (Some(','), Some(' ')),
        (Some('.'), Some('\'')),
    ];
    for (decimal, thousands) in conventions {
        let reader = ColumnFormat::new(&ValueFormat {
            decimal_separator: decimal,
            thousands,
            ..ValueFormat::default()
        });
        text.clear();
        let digits = raw.unsigned_abs().to_string();
        if raw < 0 {
            text.push('-');
        }
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                text.push(thousands.unwrap_or(','));
            }
            text.push(digit);
        }
        let read = reader.normalize_number(text, normalized).map(str::parse::<i64>);
        if read != Some(Ok(raw)) {
            return Err(format!("{raw} written {text:?} reads {read:?}"));
        }
        let float = f64::from_bits(raw as u64);
        if !float.is_finite() {
            continue;
        }
        text.clear();
        let shortest = format!("{float:?}");
        text.push_str(&shortest.replace('.', &decimal.unwrap_or('.').to_string()));
        let read = reader.normalize_number(text, normalized).map(str::parse::<f64>);
        if read != Some(Ok(float)) {
            return Err(format!("{float:?} written {text:?} reads {read:?}"));
        }
    }
    Ok(())
}

/// How the import target packs its input: the first byte picks it.
#[derive(Clone, Copy, Debug)]
enum InputKind {
    Csv,
    Tsv,
    Gzip,
    Zstd,
    Zip,
    Ndjson,
    /// The input's records written as a workbook's cells.
    Xlsx,
    /// The input as it is, under the extension its first bytes claim (a workbook or Parquet
    /// file the mutations broke), or as CSV.
    Raw,
}

impl InputKind {
    fn of(choice: u8) -> Self {
        [
            Self::Csv,
            Self::Csv,
            Self::Tsv,
            Self::Gzip,
            Self::Zstd,
            Self::Zip,
            Self::Ndjson,
            Self::Xlsx,
            Self::Raw,
        ][usize::from(choice) % 9]
    }
}

/// The file the import target reads: `body` packed as `kind`, under a name that says so.
fn packed_input(dir: &Path, kind: InputKind, body: &[u8]) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    let (name, bytes): (&str, Vec<u8>) = match kind {
        InputKind::Csv => ("input.csv", body.to_vec()),
        InputKind::Tsv => ("input.tsv", body.to_vec()),
        InputKind::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(body)?;
            ("input.csv.gz", encoder.finish()?)
        }
        InputKind::Zstd => ("input.csv.zst", zstd::encode_all(body, 1)?),
        InputKind::Zip => {
            let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            archive.start_file("inside.csv", zip::write::SimpleFileOptions::default())?;
            archive.write_all(body)?;
            ("input.zip", archive.finish()?.into_inner())
        }
        InputKind::Ndjson => ("input.ndjson", body.to_vec()),
        InputKind::Xlsx => ("input.xlsx", workbook_of(body)?),
        InputKind::Raw if body.starts_with(b"PK") => {
            let contains = |text: &[u8]| body.windows(text.len()).any(|window| window == text);
            let name = if contains(b"opendocument") {
                "input.ods"
            } else if contains(b"xl/") {
                "input.xlsx"
            } else {
                "input.zip"
            };
            (name, body.to_vec())
        }
        InputKind::Raw if body.starts_with(b"PAR1") => ("input.parquet", body.to_vec()),
        InputKind::Raw if body.starts_with(b"\xd0\xcf\x11\xe0") => ("input.xls", body.to_vec()),
        InputKind::Raw => ("input.csv", body.to_vec()),
    };
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// A workbook whose sheet holds `body`'s records read as CSV, a cell per field: numbers as
/// numbers, the rest as text.
fn workbook_of(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    for (row, record) in reader.byte_records().enumerate() {
        let Ok(record) = record else { break };
        let Ok(row) = u32::try_from(row) else { break };
        for (column, field) in record.iter().enumerate().take(1000) {
            let text = String::from_utf8_lossy(field);
            let column = column as u16;
            match text.parse::<f64>() {
                Ok(number) if number.is_finite() => sheet.write_number(row, column, number)?,
                _ if text.is_empty() => sheet,
                _ => sheet.write_string(row, column, text.as_ref())?,
            };
        }
    }
    Ok(workbook.save_to_buffer()?)
}

/// A whole import of the input in one of several packings (the first byte), with a schema and
/// the unique rule or a second import as an upsert (the second byte), now and then several MB
/// long. Checked: the database's accounting, and for delimited text the `csv` crate's count.
fn import(input: &[u8], workspace: &mut Workspace) -> Result<(), String> {
    // A workbook, Parquet or old Excel seed, mutated, is fed as the whole file it is; any other
    // input starts with its packing and its options.
    let whole_file = [&b"PK"[..], b"PAR1", b"\xd0\xcf\x11\xe0"]
        .iter()
        .any(|magic| input.starts_with(magic));
    let (kind, options, body) = match input {
        _ if whole_file => (InputKind::Raw, 0, input),
        [kind, options, body @ ..] => (InputKind::of(*kind), *options, body),
        _ => return Ok(()),
    };
    let grown: Vec<u8>;
    let body = if options & 0x80 != 0 && matches!(kind, InputKind::Csv | InputKind::Gzip) && !body.is_empty() {
        // Several MB: past the 1 MiB sample, so rows the sniffer never saw must still be read.
        grown = body
            .iter()
            .copied()
            .cycle()
            .take(3 * 1024 * 1024 + usize::from(options))
            .collect();
        &grown[..]
    } else {
        body
    };
    let path = packed_input(workspace.dir.path(), kind, body).map_err(|error| error.to_string())?;
    let table = format!("fuzz_{}", workspace.imports);
    let store = workspace.store().map_err(|error| error.to_string())?;
    let mut request = ImportRequest::new(&path, &table);
    if options & 1 != 0 {
        // A schema from the sniffed columns: text throughout, the first unique.
        if let Ok(sniffed) = sniff(&path, &SniffHints::default()) {
            let columns = sniffed
                .layout
                .columns
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    let mut spec = ColumnSpec::new(name, ColumnType::Varchar);
                    spec.unique = index == 0;
                    spec
                })
                .collect();
            request.schema = Some(SchemaFile { columns });
        }
    }
    let summary = match imported(store, &request, &path)? {
        Some(summary) => summary,
        None => return Ok(()),
    };
    let fail = |what: String| Err(format!("{}: {what}", path.display()));
    if let Err(problem) = check_accounting(store, &table, 0, &summary) {
        return fail(problem);
    }
    if matches!(
        kind,
        InputKind::Csv | InputKind::Tsv | InputKind::Gzip | InputKind::Zstd
    ) {
        compare_with_csv_crate(store, &path, &summary)?;
    }
    if options & 2 != 0 && request.schema.is_none() {
        // The same file again, as an upsert keyed on its first column: rows with a key the table
        // has replace it, the others are added.
        let before = summary.rows_imported;
        let key: String = store
            .conn()
            .query_row(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND column_index = 1",
                [&table],
                |row| row.get(0),
            )
            .map_err(|error| error.to_string())?;
        request.mode = ImportMode::Upsert;
        request.key = vec![key];
        if let Some(upserted) = imported(store, &request, &path)?
            && let Err(problem) = check_accounting(store, &table, before, &upserted)
        {
            return fail(format!("upsert: {problem}"));
        }
    }
    store
        .conn()
        .execute_batch(&format!("DROP TABLE IF EXISTS {}", sluice::sql::quote_ident(&table)))
        .map_err(|error| error.to_string())
}

/// Runs the import; `None` when Sluice refused the input as a whole with a clear error (empty,
/// not text, a key with duplicates), which is not a finding. DuckDB's internal errors, and a
/// database it gave up on, are.
fn imported(
    store: &Store,
    request: &ImportRequest,
    path: &Path,
) -> Result<Option<sluice::import::ImportSummary>, String> {
    match run_import(store, request, &mut NoProgress, &CancelToken::new()) {
        Ok(summary) => Ok(Some(summary)),
        Err(failure) => {
            let message = failure.error.to_string();
            if message.contains("INTERNAL") || message.contains("invalidated") || message.contains("panick") {
                return Err(format!("{}: {message}", path.display()));
            }
            Ok(None)
        }
    }
}
