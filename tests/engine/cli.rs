//! The command line as a script would use it: exit codes and the JSON summary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn sluice(db_path: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command.env("SLUICE_DB", db_path);
    command
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn import_prints_a_json_summary_last_and_failed_gives_the_report() {
    // The command line runs in child processes, which need the database file unlocked: this test
    // never opens it itself.
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("cli.duckdb");
    let path = write(dir.path(), "data.csv", b"id,name\n1,a\nx,b\n3,c\n");
    let schema = write(
        dir.path(),
        "schema.json",
        br#"{"columns":[{"name":"id","type":"BIGINT"},{"name":"name","type":"VARCHAR"}]}"#,
    );
    let output = sluice(&db_path)
        .args([
            "import",
            path.to_str().unwrap(),
            "--table",
            "t",
            "--json",
            "--schema",
            schema.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["status"], "completed");
    assert_eq!(summary["rows_read"], 3);
    assert_eq!(summary["rows_imported"], 2);
    assert_eq!(summary["rows_failed"], 1);
    assert!(summary["elapsed_ms"].is_u64());
    let job_id = summary["job_id"].as_i64().unwrap();

    let report = sluice(&db_path).args(["failed", &job_id.to_string()]).output().unwrap();
    assert!(report.status.success());
    let report = String::from_utf8(report.stdout).unwrap();
    let mut lines = report.lines();
    assert_eq!(lines.next(), Some("file,line,errors,raw,id,name"));
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "{},3,id: 'x' is not a valid BIGINT (expected a whole number),\"x,b\",x,b",
                path.display()
            )
            .as_str()
        )
    );

    let jobs = sluice(&db_path).args(["jobs", "--json"]).output().unwrap();
    let jobs: serde_json::Value = serde_json::from_slice(&jobs.stdout).unwrap();
    assert_eq!(jobs[0]["job_id"], job_id);
    assert_eq!(jobs[0]["kind"], "import");
    assert_eq!(jobs[0]["rows_failed"], 1);
}

#[test]
fn a_failed_import_exits_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = sluice(&dir.path().join("db.duckdb"))
        .args(["import", "/no/such/file.csv", "--table", "t"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("/no/such/file.csv"), "{stderr}");
}

#[test]
fn a_killed_import_is_interrupted_on_reopen_and_leaves_no_table() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("killed.duckdb");
    let mut text = String::from("id,name\n");
    for i in 0..200_000 {
        text.push_str(&format!("{i},name {i}\n"));
    }
    let path = write(dir.path(), "big.csv", text.as_bytes());
    let mut child = sluice(&db_path)
        .args(["import", path.to_str().unwrap(), "--table", "t", "--json"])
        .args(["--max-rows-per-sec", "20000", "--batch-rows", "2000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // What was understood of the file comes first, then progress.
    let sniffed = lines.next().unwrap().unwrap();
    assert!(sniffed.contains("\"sniffed\""), "{sniffed}");
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("\"progress\""), "{first}");
    child.kill().unwrap(); // SIGKILL: no handler runs, nothing is cleaned up.
    child.wait().unwrap();

    let store = sluice::store::Store::open(&db_path, &Default::default()).unwrap();
    let jobs = store.jobs().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, sluice::store::JobStatus::Interrupted);
    assert!(sluice::store::list_tables(store.conn()).unwrap().is_empty());
}

#[test]
fn a_second_process_gets_a_clear_message_when_the_database_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("busy.duckdb");
    let _held = sluice::store::Store::open(&db_path, &Default::default()).unwrap();
    let output = sluice(&db_path).arg("jobs").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("already open in another Sluice window or program"),
        "{stderr}"
    );
}

#[test]
fn a_wide_file_fits_in_the_memory_the_command_line_gives_duckdb_both_ways() {
    // The command line caps DuckDB's memory for imports; a row group of 300 columns needs a block
    // per column, so the cap must grow with the file's width.
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("wide.duckdb");
    let columns = 300;
    let mut text: String = (0..columns).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
    text.push('\n');
    // 10,000 rows of 300 short values (14 MB): with a fixed 32 MB cap this import failed.
    let row: String = (0..columns).map(|i| format!("v{i}")).collect::<Vec<_>>().join(",");
    for _ in 0..10_000 {
        text.push_str(&row);
        text.push('\n');
    }
    let path = write(dir.path(), "wide.csv", text.as_bytes());
    let output = sluice(&db_path)
        .args(["import", path.to_str().unwrap(), "--table", "wide", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap_or_default()
            .contains("\"rows_imported\":10000")
    );
}

/// The last line of a `--json` import that succeeded.
fn finished_import(db_path: &Path, args: &[&str]) -> serde_json::Value {
    let output = sluice(db_path).arg("import").args(args).arg("--json").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

fn mib(text: &serde_json::Value) -> f64 {
    text.as_str().unwrap().strip_suffix(" MiB").unwrap().parse().unwrap()
}

#[test]
fn an_import_lowers_the_limit_it_was_given_by_sluice_and_only_that_one() {
    // 40,000 rows of 300 columns are 12M cells, enough for DuckDB's bookkeeping of the
    // uncommitted rows (one byte per 34 cells) to take a step of the limit. Less than a row
    // group, they are appended to the table at commit, which needs 200-300 MB here: under the
    // command line's 107 MB this import failed to commit.
    let dir = tempfile::tempdir().unwrap();
    let columns = 300;
    let mut text: String = (0..columns).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
    text.push('\n');
    let row: String = (0..columns).map(|i| (i % 10).to_string()).collect::<Vec<_>>().join(",");
    for _ in 0..40_000 {
        text.push_str(&row);
        text.push('\n');
    }
    let path = write(dir.path(), "wide.csv", text.as_bytes());
    let path = path.to_str().unwrap();

    let finished = finished_import(&dir.path().join("a.duckdb"), &[path, "--table", "wide"]);
    assert_eq!(finished["rows_imported"], 40_000, "{finished}");
    let chosen = &finished["settings"];
    let (start, lowest) = (
        mib(&chosen["duckdb_memory_limit"]),
        mib(&chosen["duckdb_memory_limit_lowest"]),
    );
    // 32 MB + 75 MB for the columns at the start, 8 MB less at the floor.
    assert!((start - 107e6 / 1_048_576.0).abs() < 0.2, "{chosen}");
    assert!(lowest < start && lowest >= 99e6 / 1_048_576.0 - 0.1, "{chosen}");

    // The user's limit stays as they set it, but for the commit, which needs more.
    let given = finished_import(
        &dir.path().join("b.duckdb"),
        &[path, "--table", "wide", "--memory-limit", "200MB"],
    );
    assert_eq!(given["rows_imported"], 40_000, "{given}");
    let settings = &given["settings"];
    assert!(settings.get("duckdb_memory_limit_lowest").is_none(), "{settings}");
}

#[test]
fn jobs_shows_what_an_export_and_an_import_did_not_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("jobs.duckdb");
    let mut text = String::from("id,amount\n");
    for id in 1..=25 {
        text.push_str(&format!("{id},{}\n", if id % 5 == 0 { "x" } else { "7" }));
    }
    let path = write(dir.path(), "data.csv", text.as_bytes());
    let schema = write(
        dir.path(),
        "schema.json",
        br#"{"columns":[{"name":"id","type":"BIGINT"},{"name":"amount","type":"BIGINT"}]}"#,
    );
    let imported = sluice(&db_path)
        .args([
            "import",
            path.to_str().unwrap(),
            "--table",
            "t",
            "--schema",
            schema.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let out = dir.path().join("out.csv");
    let exported = sluice(&db_path)
        .args([
            "export",
            "--table",
            "t",
            "--chunk-rows",
            "7",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );

    let listed = sluice(&db_path).args(["jobs", "--json"]).output().unwrap();
    let jobs: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(jobs[0]["kind"], "export");
    assert_eq!(jobs[0]["result"]["rows_written"], 20);
    assert_eq!(jobs[0]["result"]["files_written"], 3);
    assert_eq!(jobs[1]["kind"], "import");
    assert_eq!(jobs[1]["result"]["rows_imported"], 20);
    assert_eq!(jobs[1]["result"]["rows_failed"], 5);

    let table = sluice(&db_path).arg("jobs").output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    let export_line = table.lines().find(|line| line.contains("export")).unwrap();
    assert!(export_line.contains("20 rows written to 3 files"), "{table}");
    let import_line = table.lines().find(|line| line.contains(" import ")).unwrap();
    assert!(import_line.contains("20 imported · 5 failed · 25 read"), "{table}");
}

#[test]
fn jobs_lists_the_lines_an_import_skipped_and_the_sniff_says_what_is_not_data() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("skipped.duckdb");
    let path = write(
        dir.path(),
        "report.csv",
        b"Quarterly report\n\nregion,amount\nNorth,10\n# checked by A.\nSouth,-5\n\nTotal,5\n",
    );
    let imported = sluice(&db_path)
        .args(["import", path.to_str().unwrap(), "--table", "r", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&imported.stdout);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let sniffed: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(sniffed["summary_rows"], true, "{stdout}");
    assert_eq!(sniffed["not_data"][0]["kind"], "summary", "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        (
            summary["rows_read"].as_u64(),
            summary["rows_imported"].as_u64(),
            summary["rows_failed"].as_u64(),
            summary["rows_skipped"].as_u64()
        ),
        (Some(3), Some(2), Some(1), Some(4)),
        "{stdout}"
    );

    let listed = sluice(&db_path).args(["jobs", "--skipped", "1"]).output().unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert!(text.starts_with("Job 1 skipped 4 lines"), "{text}");
    let reasons: Vec<(&str, &str)> = text
        .lines()
        .skip(1)
        .map(|line| {
            let mut parts = line.split_whitespace();
            (parts.next().unwrap(), parts.next().unwrap())
        })
        .collect();
    assert_eq!(
        reasons,
        [("1", "above_header"), ("2", "blank"), ("5", "comment"), ("7", "blank")]
    );
}

/// An export killed half-way leaves no final file, only its hidden temporary one, which the next
/// command to open the database removes.
#[test]
fn a_killed_export_leaves_no_file_and_its_leftover_goes_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("killed-export.duckdb");
    {
        let store = sluice::store::Store::open(&db_path, &Default::default()).unwrap();
        store
            .conn()
            .execute_batch(
                "CREATE TABLE big AS SELECT i AS id, 'name ' || i AS name, i * 7919 % 100003 AS n
                 FROM range(3000000) r(i)",
            )
            .unwrap();
    }
    let out = dir.path().join("big.csv.gz");
    let mut child = sluice(&db_path)
        .args(["export", "--table", "big", "--gzip", "--level", "9", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let part = sluice::export::part_path(&out, 1);
    let mut waited = 0;
    while !part.exists() && waited < 300 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        waited += 1;
    }
    assert!(part.exists(), "the export never started writing");
    child.kill().unwrap(); // SIGKILL: no handler runs.
    child.wait().unwrap();
    assert!(!out.exists());
    assert!(part.exists());

    let output = sluice(&db_path).arg("jobs").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("interrupted"));
    assert!(!part.exists(), "the leftover is still there");
    assert!(!out.exists());
}

/// `sluice ARGS` in a shell that caps the size of any file it writes at `kib` KiB, as a full disk
/// would stop it (SIGXFSZ ignored, so a write past the cap fails with "File too large").
fn sluice_with_file_cap(db_path: &Path, kib: u64, args: &[&str]) -> std::process::Output {
    let quoted: Vec<String> = args.iter().map(|arg| format!("'{arg}'")).collect();
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {kib}; exec '{}' {}",
            env!("CARGO_BIN_EXE_sluice"),
            quoted.join(" ")
        ))
        .env("SLUICE_DB", db_path)
        .output()
        .unwrap()
}

#[test]
fn an_export_that_runs_out_of_room_fails_naming_the_cause_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("room.duckdb");
    {
        let store = sluice::store::Store::open(&db_path, &Default::default()).unwrap();
        store
            .conn()
            .execute_batch("CREATE TABLE big AS SELECT i AS id, 'name ' || i AS name FROM range(500000) r(i)")
            .unwrap();
    }
    let out = dir.path().join("big.csv");
    // The database is already written: only the export's file meets the cap.
    let output = sluice_with_file_cap(
        &db_path,
        2048,
        &["export", "--table", "big", "--out", out.to_str().unwrap()],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_import_that_runs_out_of_room_fails_naming_the_cause_and_leaves_the_database_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("room.duckdb");
    let small = write(dir.path(), "small.csv", b"id,name\n1,a\n2,b\n");
    let output = sluice(&db_path)
        .args(["import", small.to_str().unwrap(), "--table", "kept"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let mut text = String::from("id,name,note\n");
    for i in 0..400_000 {
        text.push_str(&format!("{i},name {i},a note that is not repeated {}\n", i * 7919));
    }
    let big = write(dir.path(), "big.csv", text.as_bytes());
    let output = sluice_with_file_cap(&db_path, 4096, &["import", big.to_str().unwrap(), "--table", "big"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("File too large"), "{stderr}");
    // The database opens, the earlier table is whole, the new one was never created.
    let store = sluice::store::Store::open(&db_path, &Default::default()).unwrap();
    let tables: Vec<String> = sluice::store::list_tables(store.conn()).unwrap();
    assert_eq!(tables, ["kept"]);
    let kept: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM kept", [], |row| row.get(0))
        .unwrap();
    assert_eq!(kept, 2);
}

/// A file cut short, added to or deleted while it is imported fails the import, which says the
/// file changed, and leaves no table. The change comes after the import's first progress line,
/// and each batch checks its file: at 2,000 rows a second the import would need 20 s to end
/// without seeing it, and it stops at the next batch instead.
#[test]
fn a_file_that_changes_while_it_is_imported_fails_the_import_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("changed.duckdb");
    let mut text = String::from("id,name\n");
    for i in 0..40_000 {
        text.push_str(&format!("{i},name {i}\n"));
    }
    type Change = fn(&Path);
    let changes: [(&str, Change); 3] = [
        ("cut short", |path| std::fs::write(path, "id,name\n1,a\n").unwrap()),
        ("added to", |path| {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            file.write_all(b"99999999,late\n").unwrap();
        }),
        ("deleted", |path| std::fs::remove_file(path).unwrap()),
    ];
    for (number, (how, change)) in changes.into_iter().enumerate() {
        let path = write(dir.path(), &format!("moving-{number}.csv"), text.as_bytes());
        let table = format!("t{number}");
        let mut child = sluice(&db_path)
            .args(["import", path.to_str().unwrap(), "--table", &table, "--json"])
            .args(["--max-rows-per-sec", "2000", "--batch-rows", "2000"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The change comes once the import has read its first rows, however long it took to
        // start: a progress line says it has.
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("\"event\":\"progress\"") {
            line.clear();
            let read = std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
            assert!(read > 0, "{how}: the import ended before it reported progress");
        }
        change(&path);
        std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(!output.status.success(), "{how}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("changed while it was imported"), "{how}: {stderr}");
        assert!(stderr.contains(how), "{how}: {stderr}");
    }
    let store = sluice::store::Store::open(&db_path, &Default::default()).unwrap();
    assert!(sluice::store::list_tables(store.conn()).unwrap().is_empty());
}

#[test]
fn output_into_a_pipe_that_closes_ends_the_command_quietly_not_in_a_panic() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("pipe.duckdb");
    // Every row fails, so the failed-rows report is far longer than a pipe holds.
    let mut csv = b"id,name\n".to_vec();
    for id in 0..20_000 {
        csv.extend_from_slice(format!("x{id},name {id}\n").as_bytes());
    }
    let path = write(dir.path(), "data.csv", &csv);
    let schema = write(
        dir.path(),
        "schema.json",
        br#"{"columns":[{"name":"id","type":"BIGINT"},{"name":"name","type":"VARCHAR"}]}"#,
    );
    let import = sluice(&db_path)
        .args(["import", path.to_str().unwrap(), "--table", "t", "--json", "--schema"])
        .arg(&schema)
        .output()
        .unwrap();
    let stdout = String::from_utf8(import.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["rows_failed"], 20_000);
    // `sluice failed 1 | head -c 0`: the reader goes away before the first line.
    let mut child = sluice(&db_path)
        .args(["failed", &summary["job_id"].to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.signal(), Some(libc_sigpipe()), "{status:?}: {stderr}");
}

/// SIGPIPE's number on Linux.
fn libc_sigpipe() -> i32 {
    13
}

#[test]
fn a_table_stacked_above_the_one_read_is_named_with_the_options_that_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("stacked.duckdb");
    let mut text = String::from("station,lat,lon\nS1,52.1,4.1\nS2,52.2,4.2\nsite,date,depth,temp\n");
    for row in 0..10 {
        text.push_str(&format!("S{row},2024-01-{:02},{},{row}.5\n", row + 1, row * 5));
    }
    let path = write(dir.path(), "stacked.csv", text.as_bytes());
    let read = sluice(&db_path)
        .args(["import", path.to_str().unwrap(), "--table", "casts"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&read.stderr);
    assert!(read.status.success(), "{stderr}");
    assert!(
        stderr
            .contains("Not data: another table, lines 1-3 (3 columns, 2 rows). To read it instead: --skip 0 --rows 2"),
        "{stderr}"
    );

    let summary = finished_import(
        &db_path,
        &[
            path.to_str().unwrap(),
            "--table",
            "stations",
            "--skip",
            "0",
            "--rows",
            "2",
        ],
    );
    assert_eq!(
        (
            summary["rows_imported"].as_u64(),
            summary["rows_failed"].as_u64(),
            summary["rows_skipped"].as_u64()
        ),
        (Some(2), Some(0), Some(11)),
        "{summary}"
    );
}
