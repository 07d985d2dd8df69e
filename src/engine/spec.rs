//! The registration of job kinds: the one place that lists them. A kind is a type implementing
//! [`Job`]; the line naming it here gives it a variant of [`JobKind`] (what the job list and the
//! front ends call it), of [`JobSpec`] (what is submitted and stored, as JSON tagged by kind) and
//! of [`JobSummary`] (what a completed one returns), and the dispatch from the one to the other.

use crate::export::ExportRequest;
use crate::import::{FixRequest, ImportRequest, RetryRequest, UndoFixRequest};
use crate::job::{self, Job, JobLabels, Ran};
use crate::progress::{CancelToken, ProgressSink};
use crate::store::{JobOutcome, JobStatus, NewJob, Store, StoreError, UnknownName};

/// How a job run by a worker ended, short of a panic.
// Made once per job and moved straight into its event: boxing would save nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum WorkerEnd {
    Completed(JobSummary, JobOutcome),
    Cancelled,
    Failed(String),
}

macro_rules! job_kinds {
    ($($(#[cfg($cfg:meta)])? #[doc = $doc:literal] $variant:ident($job:ty),)*) => {
        /// What a job does. Front ends match the kinds they have something to say about.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum JobKind {
            $($(#[cfg($cfg)])? #[doc = $doc] $variant,)*
        }

        impl JobKind {
            /// The name the job record keeps (`import`): the job's own [`Job::KIND`].
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($(#[cfg($cfg)])? Self::$variant => <$job as Job>::KIND,)*
                }
            }

            /// The kind's name for people (`Import`).
            pub fn title(&self) -> &'static str {
                match self {
                    $($(#[cfg($cfg)])? Self::$variant => stringify!($variant),)*
                }
            }
        }

        impl std::str::FromStr for JobKind {
            type Err = UnknownName;

            fn from_str(name: &str) -> Result<Self, UnknownName> {
                match name {
                    $($(#[cfg($cfg)])? name if name == <$job as Job>::KIND => Ok(Self::$variant),)*
                    _ => Err(UnknownName::new("job kind", name)),
                }
            }
        }

        /// A job to run, and the settings stored with it: JSON tagged with its kind, written and
        /// read by this type.
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum JobSpec {
            $($(#[cfg($cfg)])? #[doc = $doc] $variant($job),)*
        }

        /// What a completed job returns. Front ends match the kinds they have something to say
        /// about; a new kind needs nothing from them.
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum JobSummary {
            $($(#[cfg($cfg)])? #[doc = $doc] $variant(<$job as Job>::Summary),)*
        }

        $(
            $(#[cfg($cfg)])?
            impl From<$job> for JobSpec {
                fn from(job: $job) -> Self {
                    Self::$variant(job)
                }
            }
        )*

        impl JobSpec {
            /// Which kind of job this spec runs.
            pub fn kind(&self) -> JobKind {
                match self {
                    $($(#[cfg($cfg)])? Self::$variant(_) => JobKind::$variant,)*
                }
            }

            /// What the job list shows of this job before it runs: what it reads, what it writes,
            /// and how much there is to read.
            pub fn labels(&self, store: &Store) -> JobLabels {
                match self {
                    $($(#[cfg($cfg)])? Self::$variant(job) => job.labels(store),)*
                }
            }

            /// Runs the job recorded as `job_id` through the one runner.
            pub(crate) fn run(
                &self,
                store: &Store,
                job_id: i64,
                sink: &mut dyn ProgressSink,
                cancel: &CancelToken,
            ) -> WorkerEnd {
                match self {
                    $($(#[cfg($cfg)])? Self::$variant(job) => {
                        match job::run_recorded(store, job_id, job, sink, cancel) {
                            Ok(Ran::Completed(summary)) => {
                                let outcome = <$job as Job>::outcome(&summary);
                                WorkerEnd::Completed(JobSummary::$variant(summary), outcome)
                            }
                            Ok(Ran::Cancelled(_)) => WorkerEnd::Cancelled,
                            Err(failure) => WorkerEnd::Failed(failure.error.to_string()),
                        }
                    })*
                }
            }
        }
    };
}

// Each kind with a line saying what it does, which documents its `JobKind`, `JobSpec` and
// `JobSummary` variants alike.
job_kinds! {
    /// Files read into a table, every row imported or kept as a failed row.
    Import(ImportRequest),
    /// A table's rows, filtered and shaped, written to files.
    Export(ExportRequest),
    /// An import's failed rows, fixed by a person, validated and imported again.
    Retry(RetryRequest),
    /// Fix rules applied to an import's failed rows, those they fix moved into its table.
    Fix(FixRequest),
    /// A fix of failed rows undone: its rows out of the table, the failed rows back as they were.
    Undo(UndoFixRequest),
    #[cfg(test)]
    /// A job that panics, for the engine's tests.
    Panic(super::tests::PanicJob),
    #[cfg(test)]
    /// A job that counts, added as a new kind is, for the engine's tests.
    Count(super::tests::CountJob),
}

impl JobSpec {
    /// The spec as stored with its job.
    pub fn to_json(&self) -> String {
        // Nothing in a spec (paths, strings, numbers, lists) can fail to serialize.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored spec, read as the kind its record says. Specs written before they were tagged
    /// carry no kind of their own, and get the record's.
    pub fn from_record(kind: &str, json: &str) -> Result<Self, serde_json::Error> {
        let mut value: serde_json::Value = serde_json::from_str(json)?;
        if let Some(object) = value.as_object_mut()
            && !object.contains_key("kind")
        {
            object.insert("kind".into(), kind.into());
        }
        serde_json::from_value(value)
    }

    /// Records the job as `job_id` with `status`; returns what the record says of it.
    pub fn record(&self, store: &Store, job_id: i64, status: JobStatus) -> Result<JobLabels, StoreError> {
        let labels = self.labels(store);
        store.record_job(&NewJob {
            job_id,
            kind: self.kind().as_str(),
            status,
            source: &labels.source,
            target: labels.target.as_deref(),
            spec: &self.to_json(),
            bytes_total: labels.bytes_total,
        })?;
        Ok(labels)
    }
}

impl serde::Serialize for JobKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A job as stored, its kind read as one this build knows.
pub type JobRecord = crate::store::JobRecord<JobKind>;

/// All jobs, newest first. A kind this build does not know is an error, never a default.
pub fn jobs(store: &Store) -> Result<Vec<JobRecord>, StoreError> {
    store
        .jobs()?
        .into_iter()
        .map(|record| record.with_kind().map_err(StoreError::from))
        .collect()
}

/// Job `job_id`, or `None` when no job has that id. A kind this build does not know is an error.
pub fn job(store: &Store, job_id: i64) -> Result<Option<JobRecord>, StoreError> {
    store
        .job(job_id)?
        .map(|record| record.with_kind().map_err(StoreError::from))
        .transpose()
}
