//! What a fix would do, before anything changes: the rules run over every failed row they
//! target, not a sample, and each row is checked by the import's own plan (read by the layouts
//! the import stored), so the counts are the ones the fix would find. Nothing is written.
//!
//! The unique rule and an upsert's key are judged against the table only when a fix is applied:
//! a preview says how many rows pass every check of their own.

use std::collections::{BTreeMap, BTreeSet};

use crate::import::sniff::file_layout::StoredLayouts;
use crate::import::write::fix_rules::{CompiledRules, FixRule, RuleError};
use crate::import::write::retry::{FilePlans, RetryError, edited_record, import_to_fix, rebuild_plans};
use crate::import::write::upsert::Key;
use crate::import::write::validate::RowValidator;
use crate::progress::CancelToken;
use crate::records::ExistingTable;
use crate::store::{
    FailedRowFilter, JobRecord, RetryRow, Store, StoredFailedRow, failed_page_starts, failed_row_files,
    read_failed_rows, read_failed_rows_alone,
};

/// Failed rows read and checked at a time: enough that the statements a page costs (DuckDB
/// plans each) are small beside its rows, few enough that a cancel is felt at once.
const PAGE_ROWS: u64 = 50_000;
/// Rows a preview shows before and after.
pub const PREVIEW_EXAMPLES: usize = 20;

/// One row as a fix would change it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FixExample {
    /// The row's line in its file.
    pub line: i64,
    /// Its fields as stored.
    pub before: Vec<String>,
    /// Its fields once the rules ran.
    pub after: Vec<String>,
    /// What would still be wrong with it, in words; empty when it would pass.
    pub problems: Vec<String>,
}

/// The counts of a fix over every row it targets.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FixPreview {
    /// Failed rows the fix targets.
    pub rows: u64,
    /// Of those, the rows a rule changed.
    pub changed: u64,
    /// Rows that would pass every check of their own and move into the table.
    pub would_pass: u64,
    /// Rows that would still fail.
    pub still_failing: u64,
    /// Of those, the rows that would fail a check they did not fail before (a rule that made a
    /// value wrong another way).
    pub newly_failing: u64,
    /// The first rows a rule changed, before and after.
    pub examples: Vec<FixExample>,
}

impl FixPreview {
    /// The counts in words, for both front ends.
    pub fn describe(&self) -> String {
        use crate::format::thousands;
        format!(
            "{} rows targeted, {} changed: {} would pass, {} would still fail ({} newly failing another check)",
            thousands(self.rows),
            thousands(self.changed),
            thousands(self.would_pass),
            thousands(self.still_failing),
            thousands(self.newly_failing)
        )
    }
}

/// Why a preview could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The import's rows cannot be fixed (no such job, not completed, its table gone...).
    #[error(transparent)]
    Import(#[from] RetryError),
    /// A rule does not fit the rows.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The person cancelled the preview.
    #[error("cancelled by the user")]
    Cancelled,
}

/// What `rules` would do to the failed rows of import `import_job_id` that `filter` targets.
pub fn preview_fix(
    store: &Store,
    import_job_id: i64,
    filter: &FailedRowFilter,
    rules: &[FixRule],
    cancel: &CancelToken,
) -> Result<FixPreview, PreviewError> {
    let setup = FixSetup::new(store, import_job_id, rules)?;
    let mut preview = FixPreview::default();
    setup.each_page(store, (filter, Problems::Read), cancel, |rows, fixed| {
        check_page(&rows, &fixed, &setup.plans, &mut preview);
        Ok(())
    })?;
    Ok(preview)
}

/// What a preview or a fix needs of the import: its record, its table as it is, the plans of
/// the files its failed rows come from (made once, from the layouts it stored), and the rules
/// resolved against its columns.
pub(in crate::import) struct FixSetup {
    import: JobRecord,
    pub table: ExistingTable,
    pub plans: FilePlans,
    pub key: Option<Key>,
    pub rules: CompiledRules,
}

impl FixSetup {
    pub(in crate::import) fn new(store: &Store, import_job_id: i64, rules: &[FixRule]) -> Result<Self, PreviewError> {
        let (import, request, table) = import_to_fix(store, import_job_id)?;
        let layouts: Option<StoredLayouts> = store.file_layouts(import_job_id)?;
        let first_layout = layouts
            .as_ref()
            .and_then(|layouts| layouts.files.first())
            .map(|(_, layout)| layout);
        // The rows' fields are in the header's order; with files whose headers differ, the
        // first file's.
        let columns = match first_layout {
            _ if !import.source_columns.is_empty() => import.source_columns.clone(),
            Some(layout) => layout.columns.clone(),
            None => Vec::new(),
        };
        let delimiter = first_layout.map_or(b',', |layout| layout.dialect.delimiter);
        let files = failed_row_files(store.conn(), import_job_id)?;
        let (plans, key) = rebuild_plans(&request, (layouts, &import.source_columns), &table, &files)?;
        let mut rules = CompiledRules::new(rules, &columns, delimiter)?;
        if let Some(plan) = plans.values().next() {
            rules = rules.reading_into(plan);
        }
        Ok(Self {
            import,
            table,
            plans,
            key,
            rules,
        })
    }

    /// Reads the targeted rows a page at a time, in file order, and hands each page to `each`
    /// with its rows as the rules fix them; with their stored problems when `problems` asks.
    pub(in crate::import) fn each_page(
        &self,
        store: &Store,
        (filter, problems): (&FailedRowFilter, Problems),
        cancel: &CancelToken,
        mut each: impl FnMut(Vec<StoredFailedRow>, Vec<Vec<String>>) -> Result<(), PreviewError>,
    ) -> Result<(), PreviewError> {
        let (conn, job_id) = (store.conn(), self.import.job_id);
        let starts = failed_page_starts(conn, job_id, filter, PAGE_ROWS)?;
        for (page, start) in starts.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(PreviewError::Cancelled);
            }
            let next = starts.get(page + 1).copied();
            let rows = match problems {
                Problems::Read => read_failed_rows(conn, job_id, filter, *start, next, PAGE_ROWS)?,
                Problems::Skipped => read_failed_rows_alone(conn, job_id, filter, (*start, next))?,
            };
            let fixed = rows.iter().map(|row| self.rules.apply(&row.fields)).collect();
            each(rows, fixed)?;
        }
        Ok(())
    }
}

/// Whether [`FixSetup::each_page`] reads the rows' stored problems: a preview compares them with
/// the new ones; a fix judges each row afresh and needs none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::import) enum Problems {
    Read,
    Skipped,
}

/// Checks a page of rows, as fixed, by their files' plans, and counts them into `preview`.
fn check_page(rows: &[StoredFailedRow], fixed: &[Vec<String>], plans: &FilePlans, preview: &mut FixPreview) {
    let validators: BTreeMap<&Option<String>, RowValidator> = plans
        .iter()
        .map(|(file, plan)| (file, RowValidator::new(plan.clone())))
        .collect();
    let (mut cells, mut problems) = (Vec::new(), Vec::new());
    for (row, fields) in rows.iter().zip(fixed) {
        let Some(validator) = validators.get(&row.file) else {
            continue;
        };
        preview.rows += 1;
        let changed = *fields != row.fields;
        preview.changed += u64::from(changed);
        // A fix takes up only the rows its rules change: the others stay as they fail.
        if !changed {
            preview.still_failing += 1;
            continue;
        }
        let after = RetryRow::fixed(row.clone(), fields.clone());
        let record = edited_record(&after, &validator.plan().layout);
        let damaged = fields.iter().any(|field| field.contains('\u{FFFD}'));
        let passes = validator.check(&record.as_record(), damaged, &mut cells, &mut problems);
        if passes {
            preview.would_pass += 1;
        } else {
            preview.still_failing += 1;
            let before: BTreeSet<(Option<&str>, &str)> = row
                .problems
                .iter()
                .map(|problem| (problem.column.as_deref(), problem.kind.as_str()))
                .collect();
            let new = problems
                .iter()
                .any(|problem| !before.contains(&(problem.column.as_deref(), problem.kind.as_str())));
            preview.newly_failing += u64::from(new);
        }
        if preview.examples.len() < PREVIEW_EXAMPLES {
            preview.examples.push(FixExample {
                line: row.line,
                before: row.fields.clone(),
                after: fields.clone(),
                problems: if passes {
                    Vec::new()
                } else {
                    problems.iter().map(|problem| problem.message.clone()).collect()
                },
            });
        }
    }
}
