//! The one table of the inputs Sluice reads: each format with its extensions, and the
//! compressions (and the one-file archive) a delimited text may come in, with the bytes that
//! start them. The opener, folder imports, the workbook, Parquet and NDJSON readers, the window's
//! file dialog and its import view all read it, so a format is added in one place and none of
//! them can drift from the others.
//!
//! Format and compression are apart: a format is what the input holds, which decides its reader;
//! a compression is how a delimited text's bytes are packed. Extensions only choose the reader
//! for workbooks, Parquet and NDJSON; a compression is told by its first bytes when the file is
//! opened, never by its name, so `export.csv` that is really gzip opens, and its extension only
//! says a folder's import takes it.

use std::path::Path;

/// What an input holds, which decides the reader.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    /// CSV and other delimited text, plain or compressed.
    #[default]
    Delimited,
    /// A workbook's sheet, read by calamine.
    Workbook,
    /// A Parquet file, its rows rendered as delimited text.
    Parquet,
    /// Newline-delimited JSON.
    Ndjson,
}

/// Each format and the extensions that name it (lower case).
pub const INPUT_FORMATS: [(InputFormat, &[&str]); 4] = [
    (
        InputFormat::Delimited,
        &["csv", "tsv", "tab", "txt", "psv", "ssv", "dat"],
    ),
    (InputFormat::Workbook, &["xlsx", "xlsm", "xlsb", "xls", "xla", "ods"]),
    (InputFormat::Parquet, &["parquet"]),
    (InputFormat::Ndjson, &["ndjson", "jsonl"]),
];

impl InputFormat {
    /// Whether the input is not text but rendered as text by Sluice (a sheet, JSON, Parquet):
    /// its dialect is known, and its lines are its rows.
    pub fn is_rendered(&self) -> bool {
        !matches!(self, Self::Delimited)
    }

    /// Whether Sluice writes the first line as a header of names (JSON keys, Parquet columns).
    pub fn has_written_header(&self) -> bool {
        matches!(self, Self::Ndjson | Self::Parquet)
    }

    /// Its name for people, `None` for delimited text.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Self::Delimited => None,
            Self::Workbook => Some("workbook"),
            Self::Ndjson => Some("JSON lines"),
            Self::Parquet => Some("Parquet"),
        }
    }
}

/// How a delimited text's bytes are packed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// Plain text, not packed.
    #[default]
    None,
    /// A gzip stream, of one member or several.
    Gzip,
    /// A Zstandard stream.
    Zstd,
    /// A zip archive holding one file, stored or deflated.
    Zip,
}

/// Each compression with the bytes a file of it starts with, and the extensions that name it.
pub const COMPRESSIONS: [(Compression, &[u8], &[&str]); 3] = [
    (Compression::Gzip, &[0x1f, 0x8b], &["gz", "gzip"]),
    (Compression::Zstd, &[0x28, 0xb5, 0x2f, 0xfd], &["zst", "zstd"]),
    (Compression::Zip, b"PK\x03\x04", &["zip"]),
];

impl Compression {
    /// The compression a file's first bytes say.
    pub fn of(head: &[u8]) -> Self {
        COMPRESSIONS
            .iter()
            .find(|(_, magic, _)| head.starts_with(magic))
            .map_or(Self::None, |(compression, _, _)| *compression)
    }

    /// Its name for people, `None` when there is none.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Gzip => Some("gzip"),
            Self::Zstd => Some("zstd"),
            Self::Zip => Some("zip"),
        }
    }

    /// The compression its extension names.
    fn named(extension: &str) -> Option<Self> {
        COMPRESSIONS
            .iter()
            .find(|(_, _, extensions)| extensions.contains(&extension))
            .map(|(compression, _, _)| *compression)
    }
}

/// The format its extension names, for a file that is not packed.
pub fn format_of(path: &Path) -> Option<InputFormat> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    format_named(&extension)
}

fn format_named(extension: &str) -> Option<InputFormat> {
    INPUT_FORMATS
        .iter()
        .find(|(_, extensions)| extensions.contains(&extension))
        .map(|(format, _)| *format)
}

/// Whether a folder's import takes the file named `name`: a format's extension, or delimited
/// text compressed (`.csv.gz`), or a zip archive. Hidden files are left out.
pub fn is_input_name(name: &str) -> bool {
    if name.starts_with('.') {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let mut parts = lower.rsplit('.');
    let (Some(last), Some(before)) = (parts.next(), parts.next()) else {
        return false;
    };
    // A zip is taken whatever the name of the one file inside; a compressed file (`.csv.gz`)
    // only when the name under the compression is delimited text's.
    match Compression::named(last) {
        Some(Compression::Zip) => true,
        Some(_) => format_named(before) == Some(InputFormat::Delimited),
        None => format_named(last).is_some(),
    }
}

/// Every extension an input may end in, for a file dialog's filter.
pub fn dialog_extensions() -> Vec<&'static str> {
    INPUT_FORMATS
        .iter()
        .flat_map(|(_, extensions)| extensions.iter().copied())
        .chain(
            COMPRESSIONS
                .iter()
                .flat_map(|(_, _, extensions)| extensions.iter().copied()),
        )
        .collect()
}

/// How the file dialog names what it offers.
pub const DIALOG_LABEL: &str = "CSV, TSV or text, plain or packed; workbooks; Parquet; JSON lines";
/// What a window takes dropped on it: the inputs of the dialog, or a folder of them.
pub const DROP_LABEL: &str =
    "CSV or TSV files (plain, .gz, .zst, one-file .zip), workbooks, Parquet, JSON lines or a folder";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_choose_formats_and_packed_text_is_taken() {
        assert_eq!(format_of(Path::new("a/b.XLSX")), Some(InputFormat::Workbook));
        assert_eq!(format_of(Path::new("b.jsonl")), Some(InputFormat::Ndjson));
        assert_eq!(format_of(Path::new("b.psv")), Some(InputFormat::Delimited));
        assert_eq!(format_of(Path::new("b.pdf")), None);
        assert!(is_input_name("data.tab.gz") && is_input_name("x.zip") && is_input_name("y.parquet"));
        assert!(!is_input_name("notes.pdf.gz") && !is_input_name(".hidden.csv") && !is_input_name("csv"));
    }

    #[test]
    fn the_first_bytes_tell_the_compression_not_the_name() {
        assert_eq!(Compression::of(b"\x1f\x8b\x08\x00"), Compression::Gzip);
        assert_eq!(Compression::of(b"\x28\xb5\x2f\xfd"), Compression::Zstd);
        assert_eq!(Compression::of(b"PK\x03\x04"), Compression::Zip);
        assert_eq!(
            Compression::of(b"PK,1"),
            Compression::None,
            "a CSV whose header starts with PK"
        );
        assert_eq!(Compression::of(b"\x1f"), Compression::None, "a file of one byte");
        assert_eq!(Compression::of(b""), Compression::None);
    }

    #[test]
    fn the_labels_name_every_format_and_compression() {
        for (format, _) in INPUT_FORMATS {
            let name = format.name().unwrap_or("CSV");
            assert!(DIALOG_LABEL.contains(name) && DROP_LABEL.contains(name), "{name}");
        }
        for (_, _, extensions) in COMPRESSIONS {
            assert!(DROP_LABEL.contains(&format!(".{}", extensions[0])), "{extensions:?}");
        }
    }

    #[test]
    fn the_dialog_offers_every_extension_a_folder_import_takes() {
        let offered = dialog_extensions();
        for (_, extensions) in INPUT_FORMATS {
            assert!(extensions.iter().all(|extension| offered.contains(extension)));
        }
        for extension in ["tab", "psv", "ssv", "dat", "gz", "zst", "zip"] {
            assert!(offered.contains(&extension), "{extension}");
        }
    }
}
