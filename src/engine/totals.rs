//! What a finished job did, worded once: the command line's job list, the Jobs view and the
//! desktop notification all say it this way, in the terms of the job's kind (an import reads,
//! imports and fails rows, an export writes rows to files, a retry fixes some of the rows it
//! retried).

use super::JobKind;
use crate::format::thousands;

/// A job's totals, from its record, its summary or its live counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobTotals {
    /// Rows the job read: an import's records, or the failed rows a retry took up again.
    pub rows_read: u64,
    /// Records an import skipped above the header.
    pub rows_skipped: u64,
    /// Rows read into the target: for an upsert, those inserted and those updated.
    pub rows_imported: u64,
    /// Of `rows_imported`, those that replaced a stored row.
    pub rows_updated: u64,
    /// Rows refused: an import's failed rows, or those a retry could not fix.
    pub rows_failed: u64,
    /// Rows an export wrote, over all its files.
    pub rows_written: u64,
    /// The files an export wrote, when known.
    pub files: Option<usize>,
    /// The job that undid this one, for a fix that was undone.
    pub undone_by: Option<i64>,
}

impl JobTotals {
    /// The totals in words, such as "4,950,000 imported · 50,000 failed · 5,000,000 read".
    pub fn describe(&self, kind: JobKind) -> String {
        let text = self.describe_counts(kind);
        match self.undone_by {
            Some(undo) => format!("{text} · undone by job {undo}"),
            None => text,
        }
    }

    fn describe_counts(&self, kind: JobKind) -> String {
        match kind {
            JobKind::Import => {
                let imported = if self.rows_updated > 0 {
                    format!(
                        "{} inserted · {} updated",
                        thousands(self.rows_imported.saturating_sub(self.rows_updated)),
                        thousands(self.rows_updated)
                    )
                } else {
                    format!("{} imported", thousands(self.rows_imported))
                };
                let mut text = format!(
                    "{imported} · {} failed · {} read",
                    thousands(self.rows_failed),
                    thousands(self.rows_read)
                );
                if self.rows_skipped > 0 {
                    text.push_str(&format!(" · {} skipped above the header", thousands(self.rows_skipped)));
                }
                text
            }
            JobKind::Export => match self.files {
                Some(files) => format!(
                    "{} rows written to {files} file{}",
                    thousands(self.rows_written),
                    if files == 1 { "" } else { "s" }
                ),
                None => format!("{} rows written", thousands(self.rows_written)),
            },
            JobKind::Retry | JobKind::Fix => format!(
                "{} fixed and imported · {} still failing · {} retried",
                thousands(self.rows_imported),
                thousands(self.rows_failed),
                thousands(self.rows_read)
            ),
            JobKind::Undo => {
                let mut text = format!(
                    "{} taken back out of the table · {} back among the failed rows",
                    thousands(self.rows_read),
                    thousands(self.rows_failed)
                );
                if self.rows_updated > 0 {
                    text.push_str(&format!(" · {} replaced rows put back", thousands(self.rows_updated)));
                }
                text
            }
            // Kinds only the engine's tests register.
            #[allow(unreachable_patterns)]
            _ => format!(
                "{} read · {} written",
                thousands(self.rows_read),
                thousands(self.rows_written.max(self.rows_imported))
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_in_its_own_terms() {
        let import = JobTotals {
            rows_read: 1_503,
            rows_skipped: 2,
            rows_imported: 1_502,
            rows_updated: 2,
            rows_failed: 1,
            ..JobTotals::default()
        };
        assert_eq!(
            import.describe(JobKind::Import),
            "1,500 inserted · 2 updated · 1 failed · 1,503 read · 2 skipped above the header"
        );
        let export = JobTotals {
            rows_written: 20,
            files: Some(3),
            ..JobTotals::default()
        };
        assert_eq!(export.describe(JobKind::Export), "20 rows written to 3 files");
        let retry = JobTotals {
            rows_read: 2,
            rows_imported: 1,
            rows_failed: 1,
            ..JobTotals::default()
        };
        assert_eq!(
            retry.describe(JobKind::Retry),
            "1 fixed and imported · 1 still failing · 2 retried"
        );
        let undone_retry = JobTotals {
            undone_by: Some(9),
            ..retry
        };
        assert_eq!(
            undone_retry.describe(JobKind::Retry),
            "1 fixed and imported · 1 still failing · 2 retried · undone by job 9"
        );
        let undo = JobTotals {
            rows_read: 3,
            rows_updated: 2,
            rows_failed: 3,
            ..JobTotals::default()
        };
        assert_eq!(
            undo.describe(JobKind::Undo),
            "3 taken back out of the table · 3 back among the failed rows · 2 replaced rows put back"
        );
    }
}
