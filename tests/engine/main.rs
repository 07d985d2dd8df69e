//! Integration tests of the engine and the command line, in one binary so DuckDB is linked once.

// A test's helpers stop it with a panic where something is wrong, as its `#[test]` functions do
// (clippy allows `unwrap` only inside the latter).
#![allow(clippy::unwrap_used)]

mod bombs;
mod cli;
mod corpus;
mod export;
mod export_shapes;
mod failed_groups;
mod fixes;
mod full_disk;
mod hostile;
mod import;
mod input_kinds;
mod layers;
mod layouts;
mod many_files;
mod messy_corpus;
mod packed;
mod property;
mod property_fixes;
mod property_formats;
mod real_world;
mod recipes;
mod regressions;
mod retry;
mod round_trips;
mod structured;
mod support;
mod undo;
mod upsert;
mod workbook;
