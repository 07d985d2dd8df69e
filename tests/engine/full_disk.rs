//! A real full disk: a small tmpfs mounted for the test holds, in turn, the database, the export
//! folder and DuckDB's spill folder. An import, an export and a sorted export each fill it and
//! must fail with the system's "No space left on device", leave the earlier table whole and no
//! partial file, and leave a database that opens.
//!
//! Mounting needs root (or the capability); where the machine refuses, each test prints a note
//! and passes, and `cli.rs`'s file-size cap ("File too large") still runs everywhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use sluice::engine::{run_export, run_import};
use sluice::export::{ExportRequest, OrderBy};
use sluice::import::ImportRequest;
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::{Store, StoreOptions};

/// A tmpfs of a few MiB, unmounted when dropped.
struct SmallDisk {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SmallDisk {
    fn mount(mebibytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let path = dir.path().to_path_buf();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mebibytes}m"), "tmpfs"])
            .arg(&path)
            .output()
            .is_ok_and(|output| output.status.success());
        if !mounted {
            eprintln!("note: skipping a full-disk test: this machine cannot mount a tmpfs (needs root)");
            return None;
        }
        Some(Self { _dir: dir, path })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

/// A CSV of `rows` rows of about 60 bytes, far bigger than the small disk once in a database.
fn big_csv(dir: &Path, rows: u64) -> PathBuf {
    use std::io::Write;
    let path = dir.join("big.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "id,name,amount,note").unwrap();
    for i in 0..rows {
        writeln!(
            file,
            "{i},name {i},{}.{:02},note {} of the row",
            i * 7 % 10_000,
            i % 100,
            i * 31
        )
        .unwrap();
    }
    file.flush().unwrap();
    path
}

fn entries(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn no_space(message: &str) -> bool {
    message.contains("No space left on device")
}

#[test]
fn an_import_that_fills_the_disk_of_the_database_fails_and_keeps_the_earlier_table() {
    let Some(disk) = SmallDisk::mount(6) else {
        return;
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let db_path = disk.path.join("small.duckdb");
    let store = Store::open(&db_path, &StoreOptions::default()).unwrap();
    let small = elsewhere.path().join("small.csv");
    std::fs::write(&small, "id,name\n1,Ann\n2,Bob\n").unwrap();
    run_import(
        &store,
        &ImportRequest::new(&small, "earlier"),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .unwrap();

    let big = big_csv(elsewhere.path(), 1_500_000);
    let failure = run_import(
        &store,
        &ImportRequest::new(&big, "big"),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .expect_err("a 90 MB import fits no 6 MiB disk");
    let message = failure.error.to_string();
    assert!(no_space(&message), "{message}");
    drop(store);

    let store = Store::open(&db_path, &StoreOptions::default()).expect("the database opens after");
    let tables = sluice::store::list_tables(store.conn()).unwrap();
    assert_eq!(tables, ["earlier"]);
    let kept: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM earlier", [], |row| row.get(0))
        .unwrap();
    assert_eq!(kept, 2);
}

fn big_table(rows: u64, options: &StoreOptions) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("big.duckdb"), options).unwrap();
    store
        .conn()
        .execute_batch(&format!(
            "CREATE TABLE big AS SELECT i AS id, 'name ' || i AS name, (i * 7919) % 1000003 AS n,
                    md5(i::VARCHAR) AS digest FROM range({rows}) r(i)"
        ))
        .unwrap();
    (dir, store)
}

#[test]
fn an_export_that_fills_its_folder_fails_and_leaves_no_file() {
    let Some(disk) = SmallDisk::mount(4) else {
        return;
    };
    let (_dir, store) = big_table(400_000, &StoreOptions::default());
    for name in ["big.csv", "big.parquet"] {
        let mut request = ExportRequest::new("big", disk.path.join(name));
        if name.ends_with(".parquet") {
            request.format = sluice::export::ExportFormat::Parquet;
            request.parquet.compression = sluice::export::ParquetCompression::None;
        }
        let failure = run_export(&store, &request, &mut NoProgress, &CancelToken::new()).expect_err(name);
        let message = failure.error.to_string();
        assert!(no_space(&message), "{name}: {message}");
        assert!(entries(&disk.path).is_empty(), "{name}: left {:?}", entries(&disk.path));
    }
}

#[test]
fn a_sorted_export_whose_spill_folder_fills_fails_and_leaves_no_file() {
    let Some(disk) = SmallDisk::mount(4) else {
        return;
    };
    let options = StoreOptions {
        memory_limit: Some("40MB".into()),
        threads: Some(1),
    };
    let (dir, store) = big_table(2_000_000, &options);
    store
        .conn()
        .execute("SET temp_directory = ?", [disk.path.display().to_string()])
        .unwrap();
    let out = dir.path().join("sorted.csv");
    let mut request = ExportRequest::new("big", &out);
    request.order_by = Some(OrderBy {
        column: "digest".into(),
        descending: false,
    });
    let failure = run_export(&store, &request, &mut NoProgress, &CancelToken::new()).expect_err("the sort spills");
    let message = failure.error.to_string();
    assert!(no_space(&message) || message.contains("temp"), "{message}");
    let left: Vec<String> = entries(dir.path())
        .into_iter()
        .filter(|name| !name.starts_with("big.duckdb"))
        .collect();
    assert!(left.is_empty(), "no file beside the database: {left:?}");
}
