//! Writing: the parse thread that validates records into Arrow batches and failed rows, and the
//! one transaction that appends them, judges the unique rule and key, and commits or rolls back.

pub(super) mod batch;
pub(super) mod cell;
pub(super) mod fix_job;
pub(super) mod fix_preview;
pub(super) mod fix_rules;
pub(super) mod keyed_writer;
pub(super) mod load;
pub(super) mod pipeline;
pub(super) mod read_as;
pub(super) mod recipe;
pub(super) mod reread;
pub(super) mod retry;
pub(super) mod run;
pub(super) mod undo_fix;
pub(super) mod unique;
pub(super) mod upsert;
pub(super) mod validate;
