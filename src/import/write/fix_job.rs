//! Applying fix rules as a job of its own kind: its spec is the rules and the rows they target
//! (a filter), not the fixed rows, so a fix of a million rows is stored in a few hundred bytes;
//! the job reads the rows a page at a time, applies the rules and retries the rows they change,
//! in one transaction, as a retry does.

use crate::import::write::fix_preview::{PreviewError, fix_edits};
use crate::import::write::fix_rules::FixRule;
use crate::import::write::retry::{RetryError, RetryRequest, RetrySummary, retry_rows};
use crate::job::{Job, JobContext, JobLabels};
use crate::store::{FailedRowFilter, JobOutcome, Store};

/// Rules to apply to the failed rows of an import that a filter targets.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FixRequest {
    /// The import whose failed rows are fixed (`retry_of`, as a retry names it).
    #[serde(rename = "retry_of")]
    pub import_job_id: i64,
    /// The failed rows the rules target: a group, a kind, a column or all.
    #[serde(default)]
    pub filter: FailedRowFilter,
    /// The rules, applied in order.
    pub rules: Vec<FixRule>,
}

impl Job for FixRequest {
    const KIND: &'static str = "fix";
    const CANCELLED: &'static str = "cancelled by the user; nothing was changed";
    type Summary = RetrySummary;
    type Error = RetryError;

    fn labels(&self, store: &Store) -> JobLabels {
        let rules: Vec<String> = self.rules.iter().map(FixRule::describe).collect();
        JobLabels {
            source: format!("failed rows of job {} ({})", self.import_job_id, rules.join("; ")),
            target: store.job(self.import_job_id).ok().flatten().and_then(|job| job.target),
            ..JobLabels::default()
        }
    }

    fn run(&self, context: &mut JobContext<'_>) -> Result<RetrySummary, RetryError> {
        let started = std::time::Instant::now();
        let rows = fix_edits(
            context.store,
            self.import_job_id,
            &self.filter,
            &self.rules,
            context.cancel,
        )
        .map_err(|error| match error {
            PreviewError::Import(error) => error,
            PreviewError::Rule(error) => RetryError::Spec(error.to_string()),
            PreviewError::Store(error) => RetryError::Store(error),
            PreviewError::Cancelled => RetryError::Cancelled,
        })?;
        let retry = RetryRequest {
            import_job_id: self.import_job_id,
            rows,
        };
        retry_rows(context, &retry, started)
    }

    fn outcome(summary: &RetrySummary) -> JobOutcome {
        <RetryRequest as Job>::outcome(summary)
    }
}
