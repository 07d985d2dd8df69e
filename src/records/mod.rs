//! The records that cross between the import and the store: a failed row and its problems, a
//! skipped line, an existing table as the catalog describes it. They live here, below both, so
//! that the import depends on the store and never the other way round.

mod failed;
mod skipped;
mod table;

pub use failed::{FailedRow, Problem, ProblemKind};
pub use skipped::{MAX_LISTED_SKIPPED_LINES, SkipReason, SkippedLine};
pub use table::{Column, ExistingTable};
