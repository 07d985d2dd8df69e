//! Sluice's engine: everything that moves rows between CSV files and DuckDB, with no user interface
//! in it. The command line (`src/cli`) and the desktop window are thin front ends over this crate.
//!
//! Where things live:
//! - [`import`]: reading, sniffing, validating and streaming CSV into a table, keeping every
//!   rejected row with its line number and reasons.
//! - [`job`]: the one shape every job has, and the one runner that records its life.
//! - [`engine`]: the job runtime: worker pool, typed events, cancellation, memory sampling.
//! - [`export`]: filtered, streamed exports to CSV, gzip CSV, chunks, Excel or Parquet.
//! - [`records`]: the records the import hands the store (failed rows, skipped lines, existing
//!   tables), below both so dependencies point one way.
//! - [`query`]: tables, columns and filters checked against the catalog, shared by Export, its
//!   preview and Browse.
//! - [`store`]: the DuckDB database, Sluice's own tables (jobs and failed rows) and their records.
//! - [`progress`]: how a running job reports progress and learns that it was cancelled.
//! - [`memory`]: process memory readings.
//! - [`sql`]: quoting of identifiers, the one way user text reaches SQL other than as a parameter.
//! - [`sql_type`]: column types parsed from the catalog, so no catalog text is spliced into SQL.
//! - [`throttle`]: the token bucket that caps rows per second.
//! - [`csv_field`]: DuckDB's rule for quoting a CSV field, shared by the exporter and the
//!   renderers of workbooks, NDJSON and Parquet.
//! - [`format`]: counts and sizes written for people, shared by the engine's wording and both
//!   front ends.
//! - [`oracle`]: an import checked against the `csv` crate's count and the database's own,
//!   for the tests and the fuzzer.
//! - [`bench`]: synthetic data and the measurements behind `sluice bench`.

pub mod bench;
pub mod browse;
pub mod csv_field;
pub mod engine;
pub mod export;
pub mod format;
pub mod import;
pub mod job;
pub mod memory;
pub mod oracle;
pub mod progress;
pub mod query;
pub mod records;
pub mod sql;
pub mod sql_type;
pub mod store;
pub mod throttle;
