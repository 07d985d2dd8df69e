//! Recipes: the rules that fixed one extract's failed rows, kept under a name, fix the same
//! faults at other lines of the next extract as it is read, with every row accounted for and
//! each rule's rows counted.

use sluice::engine::run_fix;
use sluice::import::{
    ColumnSpec, ColumnType, FixRequest, FixRule, ImportError, ImportMode, ImportRequest, Recipe, SchemaFile,
};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::FailedRowFilter;

use crate::support::TestDb;

fn people(file: &std::path::Path, mode: ImportMode) -> ImportRequest {
    let mut request = ImportRequest::new(file, "people");
    request.mode = mode;
    request.schema = Some(SchemaFile {
        columns: vec![
            ColumnSpec::new("id", ColumnType::BigInt),
            ColumnSpec::new("name", ColumnType::Varchar),
            ColumnSpec::new("age", ColumnType::Integer),
        ],
    });
    request
}

/// Applies `rule` to every failed row of `job_id` it changes, as `sluice fix --save-recipe`
/// does, keeping it in recipe `crm`.
fn fix_and_keep(db: &TestDb, job_id: i64, rule: FixRule) {
    let request = FixRequest {
        import_job_id: job_id,
        filter: FailedRowFilter {
            kind: rule.problem_kind().map(str::to_string),
            ..FailedRowFilter::default()
        },
        rules: vec![rule.clone()],
    };
    run_fix(&db.store, &request, &mut NoProgress, &CancelToken::new()).unwrap();
    Recipe::add_rule(&db.store, "crm", rule).unwrap();
}

fn forty() -> FixRule {
    FixRule::SetValue {
        column: "age".into(),
        from: Some("forty".into()),
        to: "40".into(),
    }
}

fn assert_accounted(db: &TestDb, job_id: i64) {
    let job = db.store.job(job_id).unwrap().unwrap();
    assert_eq!(job.rows_imported + job.rows_failed + job.rows_skipped, job.rows_read);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM sluice.failed_rows WHERE job_id = {job_id}"
        )),
        job.rows_failed
    );
}

#[test]
fn a_recipe_fixes_the_same_faults_at_other_lines_of_the_next_extract() {
    let db = TestDb::new();
    let day1 = db.file("day1.csv", b"id,name,age\n1,\"\",forty\n2,Smith, John,42\n3,Bo,30\n");
    let first = db.import_request(&people(&day1, ImportMode::Create));
    assert_eq!(first.rows_failed, 2);
    fix_and_keep(&db, first.job_id, forty());
    fix_and_keep(
        &db,
        first.job_id,
        FixRule::JoinFields {
            first: 1,
            delimiter: None,
        },
    );
    // A rule that changes nothing in either extract: kept, and reported as matching nothing.
    fix_and_keep(&db, first.job_id, FixRule::Trim { column: "name".into() });

    let day2 = db.file(
        "day2.csv",
        b"id,name,age\n10,Al,31\n11,\"\",forty\n12,Lee, Ann,43\n13,Cy,x\n14,,forty\n",
    );
    let mut request = people(&day2, ImportMode::Append);
    request.recipe = Some(Recipe::find(&db.store, "crm").unwrap());
    let second = db.import_request(&request);
    assert_eq!((second.rows_read, second.rows_imported, second.rows_failed), (5, 4, 1));
    assert_eq!(
        second.fixed_by.into_iter().collect::<Vec<_>>(),
        [
            ("age: forty -> 40".to_string(), 2),
            ("join fields 2 and 3".to_string(), 1),
            ("name: trim".to_string(), 0)
        ]
    );
    assert_accounted(&db, second.job_id);
    let row = |id: &str, name: Option<&str>, age: &str| {
        vec![Some(id.to_string()), name.map(str::to_string), Some(age.to_string())]
    };
    let mut rows = db.rows("people");
    rows.sort();
    assert_eq!(
        rows,
        [
            row("1", Some(""), "40"),
            row("10", Some("Al"), "31"),
            row("11", Some(""), "40"),
            row("12", Some("Lee, Ann"), "43"),
            row("14", None, "40"),
            row("2", Some("Smith, John"), "42"),
            row("3", Some("Bo"), "30"),
        ]
    );
}

#[test]
fn a_row_a_recipe_changed_that_still_fails_keeps_the_raw_text_the_file_wrote() {
    let db = TestDb::new();
    let file = db.file("day.csv", b"id,name,age\n1,Ann,forty\n2,Bo, forty \n");
    let mut request = people(&file, ImportMode::Create);
    request.recipe = Some(Recipe {
        name: "typo".into(),
        rules: vec![
            FixRule::Replace {
                column: "age".into(),
                pattern: "forty".into(),
                with: "fourty".into(),
            },
            FixRule::Trim { column: "zip".into() },
        ],
    });
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (0, 2));
    assert_eq!(summary.fixed_by.get("age: /forty/ -> fourty"), Some(&2));
    assert_eq!(summary.fixed_by.get("zip: trim"), Some(&0));
    let failed = db.failed_rows(summary.job_id);
    assert_eq!(failed[1].raw, "2,Bo, forty ");
    assert_eq!(failed[1].fields, ["2", "Bo", " fourty "]);
}

#[test]
fn a_recipe_whose_pattern_does_not_compile_is_refused_before_anything_is_written() {
    let db = TestDb::new();
    let file = db.file("day.csv", b"id,name,age\n1,Ann,40\n");
    let mut request = people(&file, ImportMode::Create);
    request.recipe = Some(Recipe {
        name: "broken".into(),
        rules: vec![FixRule::Replace {
            column: "age".into(),
            pattern: "(forty".into(),
            with: "40".into(),
        }],
    });
    let failure = sluice::engine::run_import(&db.store, &request, &mut NoProgress, &CancelToken::new()).unwrap_err();
    assert!(matches!(failure.error, ImportError::Recipe(_)), "{}", failure.error);
    assert!(
        failure
            .error
            .to_string()
            .starts_with("recipe 'broken': '(forty' is not a regular expression")
    );
    assert_eq!(
        db.count("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main'"),
        0
    );
}

#[test]
fn a_recipe_written_to_a_file_reads_back_as_the_same_rules() {
    let db = TestDb::new();
    Recipe::add_rule(&db.store, "crm", forty()).unwrap();
    Recipe::add_rule(&db.store, "crm", FixRule::PadFields).unwrap();
    let stored = Recipe::stored(&db.store, "crm").unwrap().unwrap();
    let path = db.dir.path().join("crm.json");
    stored.write_to(&path).unwrap();
    let read = Recipe::find(&db.store, &path.display().to_string()).unwrap();
    assert_eq!(read, stored);
    assert_eq!(read.rules, [forty(), FixRule::PadFields]);
    assert!(Recipe::find(&db.store, "nightly").is_err());
}

#[test]
fn a_recipe_on_a_file_with_a_trailing_delimiter_leaves_its_good_rows_as_they_are() {
    let db = TestDb::new();
    // Every row ends with a delimiter, so a good row has a field past its columns.
    let mut text = String::from("id,name,age,\n");
    for id in 1..=40 {
        match id {
            5 => text.push_str("5,Smith, Cy,41,\n"),
            _ => text.push_str(&format!("{id},N{id},{},\n", 20 + id)),
        }
    }
    let file = db.file("trailing.csv", text.as_bytes());
    let mut request = people(&file, ImportMode::Create);
    request.recipe = Some(Recipe {
        name: "split names".into(),
        rules: vec![
            FixRule::JoinFields {
                first: 1,
                delimiter: None,
            },
            FixRule::DropEmptyLastField,
        ],
    });
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (40, 0));
    assert_eq!(summary.fixed_by.get("join fields 2 and 3"), Some(&1));
    assert_eq!(summary.fixed_by.get("drop an empty last field"), Some(&0));
    assert_eq!(
        db.count("SELECT count(*) FROM people WHERE id = 5 AND name = 'Smith, Cy' AND age = 41"),
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM people WHERE name = 'N1' AND age = 21"),
        1
    );
}
