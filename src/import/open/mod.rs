//! Opening an input: which files an import reads, how each is packed (gzip, zstd, zip) and
//! encoded, and the formats that are not delimited text (workbooks, NDJSON, Parquet), rendered
//! as text so that every later stage reads one kind of input.

pub(super) mod column_span;
pub(super) mod decode;
pub(super) mod encoding;
pub mod input_formats;
pub(super) mod inputs;
pub(super) mod ndjson;
pub(super) mod opener;
pub(super) mod packing;
pub(super) mod parquet;
pub(super) mod rendered;
pub(super) mod source;
pub(super) mod stamp;
pub(super) mod workbook;
