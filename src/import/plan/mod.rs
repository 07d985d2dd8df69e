//! Planning: which field of which file feeds which target column, with which type and rules,
//! decided and checked against the schema file and the existing table before a row is read.

pub(super) mod import_plan;
pub(super) mod many_files;
pub(super) mod schema;
pub(super) mod target;
pub(super) mod type_widening;
