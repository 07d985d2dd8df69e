//! Packed input: zstd and a zip holding one file (stored or deflated) import exactly as the same
//! text does plain, whatever the file is called; a zip of several files is refused with a
//! message saying what to do.

use std::io::Write;

use sluice::import::{ImportRequest, ImportSummary};
use zip::write::SimpleFileOptions;

use crate::support::TestDb;

/// Faults of every kind the accounting must survive: numbers of different lengths and signs,
/// NULLs and empty strings, a quoted newline, rows too short and too long, a bad number and a
/// byte that is not UTF-8.
fn faulty_csv() -> Vec<u8> {
    let mut text = b"id,name,amount\n".to_vec();
    for row in 0..2_000 {
        let line = match row % 9 {
            0 => format!("{row},\"multi\nline\",-{row}.5\n"),
            1 => format!("{row},short\n"),
            2 => format!("{row},long,1,2\n"),
            3 => format!("x{row},bad id,7\n"),
            4 => format!("{row},,\n"),
            5 => format!("{row},\"quoted, \"\"comma\"\"\",123456789012\n"),
            _ => format!("{row},name {row},{}\n", row * 37 - 500),
        };
        text.extend_from_slice(line.as_bytes());
    }
    text.extend_from_slice(b"9999,caf\xe9,1\n");
    text
}

fn zip_of(members: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, contents) in members {
        if name.ends_with('/') {
            writer.add_directory(*name, options).unwrap();
        } else {
            writer.start_file(*name, options).unwrap();
            writer.write_all(contents).unwrap();
        }
    }
    writer.finish().unwrap().into_inner()
}

fn counts(summary: &ImportSummary) -> (u64, u64, u64, u64) {
    (
        summary.rows_read,
        summary.rows_imported,
        summary.rows_failed,
        summary.rows_skipped,
    )
}

#[test]
fn zstd_and_one_file_zips_import_as_the_plain_text_does() {
    let db = TestDb::new();
    let text = faulty_csv();
    let plain = db.import(&db.file("plain.csv", &text), "plain");
    assert_eq!(plain.rows_read, 2_001);
    assert!(plain.rows_failed > 400, "{plain:?}");
    assert_eq!(
        plain.rows_imported + plain.rows_failed + plain.rows_skipped,
        plain.rows_read
    );
    let expected_rows = db.rows_as_text("plain");
    let expected_failed = db.failed_lines(plain.job_id);

    let zstd = zstd::encode_all(&text[..], 3).unwrap();
    let stored = zip_of(&[("data.csv", &text)], zip::CompressionMethod::Stored);
    let deflated = zip_of(
        &[
            ("export/", b""),
            ("export/data.csv", &text),
            ("__MACOSX/export/._data.csv", b"\0\x05\x16\x07"),
        ],
        zip::CompressionMethod::Deflated,
    );
    // Named as if plain: the first bytes decide.
    for (name, packed) in [
        ("a.csv.zst", &zstd),
        ("b.csv", &zstd),
        ("c.zip", &stored),
        ("d.zip", &deflated),
    ] {
        let path = db.file(name, packed);
        let table = name.replace('.', "_");
        let summary = db.import(&path, &table);
        assert_eq!(counts(&summary), counts(&plain), "{name}");
        assert_eq!(db.rows_as_text(&table), expected_rows, "{name}");
        assert_eq!(
            db.failed_lines(summary.job_id),
            expected_failed,
            "{name}: lines and reasons"
        );
        assert!(
            summary.bytes_read > 0 && summary.bytes_read <= packed.len() as u64,
            "{name}: progress counts packed bytes, {} of {}",
            summary.bytes_read,
            packed.len()
        );
    }
    assert!(zstd.len() < text.len() / 2, "the test data compresses");
}

#[test]
fn a_zip_of_several_files_is_refused_before_anything_is_written() {
    let db = TestDb::new();
    let two = zip_of(
        &[("jan.csv", b"a\n1\n"), ("feb.csv", b"a\n2\n")],
        zip::CompressionMethod::Deflated,
    );
    let path = db.file("months.zip", &two);
    let error = sluice::engine::run_import(
        &db.store,
        &ImportRequest::new(&path, "months"),
        &mut sluice::progress::NoProgress,
        &sluice::progress::CancelToken::new(),
    )
    .unwrap_err()
    .error
    .to_string();
    assert!(error.contains("holds 2 files (jan.csv, feb.csv)"), "{error}");
    assert!(error.contains("months.zip"), "{error}");
    assert!(sluice::store::list_tables(db.store.conn()).unwrap().is_empty());
}

#[test]
fn a_damaged_zip_fails_whole_instead_of_importing_wrong_rows() {
    let db = TestDb::new();
    let text = faulty_csv();
    let mut stored = zip_of(&[("data.csv", &text)], zip::CompressionMethod::Stored);
    let at = stored
        .windows(7)
        .position(|window| window == b"name 17")
        .expect("a stored member keeps its text");
    stored[at] = b'N';
    let path = db.file("damaged.zip", &stored);
    let error = sluice::engine::run_import(
        &db.store,
        &ImportRequest::new(&path, "damaged"),
        &mut sluice::progress::NoProgress,
        &sluice::progress::CancelToken::new(),
    )
    .unwrap_err()
    .error
    .to_string();
    assert!(error.contains("does not match its checksum"), "{error}");
    assert!(sluice::store::list_tables(db.store.conn()).unwrap().is_empty());
}
