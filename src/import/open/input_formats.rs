//! The one table of the inputs Sluice reads: each format with its extensions, and the packings
//! (compressions and archives) a delimited text may come in. Folder imports, the workbook,
//! Parquet and NDJSON readers, and the window's file dialog all read it, so a format is added in
//! one place and none of them can drift from the others.
//!
//! Extensions only choose the reader for workbooks, Parquet and NDJSON; a packed text is told by
//! its bytes when it is opened (`packing`), and its extension only says a folder's import takes it.

use std::path::Path;

/// What an input holds, which decides the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// CSV and other delimited text, plain or packed.
    Delimited,
    /// A workbook's sheet, read by calamine.
    Workbook,
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

/// Extensions of compressed text (`data.csv.gz`), after which the text's own extension comes.
pub const COMPRESSED_EXTENSIONS: [&str; 4] = ["gz", "gzip", "zst", "zstd"];
/// An archive holding one delimited file, whatever its name inside.
pub const ARCHIVE_EXTENSION: &str = "zip";

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
    format_named(last).is_some()
        || last == ARCHIVE_EXTENSION
        || (COMPRESSED_EXTENSIONS.contains(&last) && format_named(before) == Some(InputFormat::Delimited))
}

/// Every extension an input may end in, for a file dialog's filter.
pub fn dialog_extensions() -> Vec<&'static str> {
    INPUT_FORMATS
        .iter()
        .flat_map(|(_, extensions)| extensions.iter().copied())
        .chain(COMPRESSED_EXTENSIONS)
        .chain([ARCHIVE_EXTENSION])
        .collect()
}

/// How the file dialog names what it offers.
pub const DIALOG_LABEL: &str = "CSV, TSV or text, plain or packed; workbooks; Parquet; JSON lines";

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
