//! Names and paths written to break SQL and the file system: quotes of both kinds, semicolons
//! with a statement after them, line breaks, backslashes and characters beyond ASCII, as table,
//! column, key, source-column and partition names, in filter values and in output paths; and a
//! schema whose types are statements. Each must reach SQL only as a bound value or a quoted
//! identifier: the import, upsert and every export shape work on them, and nothing else in the
//! database changes.

use std::path::Path;

use sluice::engine::{run_export, run_import};
use sluice::export::{ExportFormat, ExportRequest, Filter, FilterOp, OrderBy};
use sluice::import::{ImportMode, ImportRequest, SchemaFile};
use sluice::progress::{CancelToken, NoProgress};

use crate::support::TestDb;

const HOSTILE: [&str; 7] = [
    "a\"b",
    "x'); DROP TABLE sluice.jobs; --",
    "semi;colon",
    "new\nline",
    "Ünïcödé 表 🎉",
    "back\\slash",
    "\"; SELECT 1; \"",
];

fn csv_file(path: &Path, header: &[&str], rows: &[[&str; 2]]) {
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(header).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
}

#[test]
fn hostile_names_work_as_names_in_every_import_and_export() {
    let db = TestDb::new();
    // A folder and file names with both quotes, for the exports.
    let out_dir = db.dir.path().join("it's \"here\"; ok");
    std::fs::create_dir(&out_dir).unwrap();
    let mut tried = 0;
    for (index, name) in HOSTILE.iter().enumerate() {
        let second = format!("{name} 2");
        let source = format!("{name} source");
        let path = db.dir.path().join(format!("hostile {index} '\".csv"));
        let value = format!("{name} value");
        csv_file(&path, &[name, &second], &[[&value, "1"], ["plain", "2"], [name, "3"]]);
        // A table name with a control character is refused in a sentence (a line break in a
        // name shows in no list); the column keeps it.
        let table = if name.contains('\n') {
            let refused = run_import(
                &db.store,
                &ImportRequest::new(&path, *name),
                &mut NoProgress,
                &CancelToken::new(),
            )
            .expect_err("a line break in a table name");
            assert!(
                refused.error.to_string().contains("invalid table name"),
                "{}",
                refused.error
            );
            format!("table {index}")
        } else {
            name.to_string()
        };
        let name_of_table = table.as_str();
        let mut import = ImportRequest::new(&path, name_of_table);
        import.source_column = Some(source.clone());
        let summary = run_import(&db.store, &import, &mut NoProgress, &CancelToken::new()).unwrap();
        assert_eq!((summary.rows_imported, summary.rows_failed), (3, 0), "{name:?}");
        // A line break in a header cell is a space in the column's name, as a person reads it.
        let names = sluice::import::clean_headers(&[name.to_string(), second.clone()]);
        assert_eq!(names[0], name.replace('\n', " "));
        let (first, second) = (names[0].clone(), names[1].clone());
        assert_eq!(
            db.columns(name_of_table),
            [first.clone(), second.clone(), source.clone()],
            "{name:?}"
        );

        // The same file again as an upsert keyed on the hostile column: three rows replaced.
        import.mode = ImportMode::Upsert;
        import.key = vec![first.clone()];
        let upserted = run_import(&db.store, &import, &mut NoProgress, &CancelToken::new()).unwrap();
        assert_eq!((upserted.rows_updated, upserted.rows_inserted), (3, 0), "{name:?}");

        // Every export shape, filtered on the hostile column by a hostile value, ordered by it.
        for (format, extension) in [
            (ExportFormat::Csv, "csv"),
            (ExportFormat::Xlsx, "xlsx"),
            (ExportFormat::Parquet, "parquet"),
        ] {
            let mut export = ExportRequest::new(name_of_table, out_dir.join(format!("out {index} '\"; x.{extension}")));
            export.format = format;
            export.columns = vec![first.clone(), second.clone()];
            export.filters = vec![Filter {
                column: first.clone(),
                op: FilterOp::Ne,
                value: Some(value.clone()),
            }];
            export.order_by = Some(OrderBy {
                column: first.clone(),
                descending: true,
            });
            let summary = run_export(&db.store, &export, &mut NoProgress, &CancelToken::new()).unwrap();
            assert_eq!(summary.rows_written, 2, "{name:?} {extension}");
            assert!(export.out.is_file(), "{name:?} {extension}");
        }
        // A partitioned Parquet folder, partitioned by the hostile column.
        let mut partitioned = ExportRequest::new(name_of_table, out_dir.join(format!("parts {index} '\"")));
        partitioned.format = ExportFormat::Parquet;
        partitioned.parquet.partition_by = vec![first.clone()];
        let summary = run_export(&db.store, &partitioned, &mut NoProgress, &CancelToken::new()).unwrap();
        assert_eq!(summary.rows_written, 3, "{name:?} partitioned");
        let back: i64 = db
            .store
            .conn()
            .query_row(
                "SELECT count(*) FROM read_parquet(?, hive_partitioning = true)",
                [format!("{}/**/*.parquet", partitioned.out.display())],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(back, 3, "{name:?} partitioned");
        tried += 1;
    }
    assert_eq!(tried, HOSTILE.len());
    // Nothing else changed: Sluice's own tables are there, with a job for each import and export.
    let jobs = db.count("SELECT count(*) FROM sluice.jobs");
    assert_eq!(
        jobs,
        HOSTILE.len() as i64 * 6 + 1,
        "six jobs a name, and the refused one"
    );
    let mut tables = sluice::store::list_tables(db.store.conn()).unwrap();
    tables.sort();
    let mut expected: Vec<String> = HOSTILE
        .iter()
        .enumerate()
        .map(|(index, name)| {
            if name.contains('\n') {
                format!("table {index}")
            } else {
                name.to_string()
            }
        })
        .collect();
    expected.sort();
    assert_eq!(tables, expected);
}

#[test]
fn a_schema_whose_types_are_statements_is_refused_naming_the_type() {
    let db = TestDb::new();
    for hostile in [
        "INTEGER); DROP TABLE sluice.jobs; --",
        "VARCHAR' || 'x",
        "DECIMAL(10,2)); SELECT 1; --",
        "INT\nEGER",
    ] {
        let schema = serde_json::json!({ "columns": [{ "name": "id", "type": hostile }] });
        let path = db.file("schema.json", schema.to_string().as_bytes());
        let error = SchemaFile::load(&path).expect_err(hostile).to_string();
        assert!(error.contains("type"), "{hostile:?}: {error}");
    }
    assert!(
        db.count("SELECT count(*) FROM sluice.jobs") >= 0,
        "Sluice's tables are there"
    );
}
