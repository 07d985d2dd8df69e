//! Parquet's settings of an export (compression, row groups, partitions), apart from both of
//! its writers: DuckDB's `COPY` for one file (`parquet`) and Sluice's own for chunks and
//! partitions (`parquet_stream`).

use serde::{Deserialize, Serialize};

/// How Parquet compresses its column chunks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParquetCompression {
    /// DuckDB's default: fast to write and read.
    #[default]
    Snappy,
    /// Smaller files for about the same reading speed; what data lakes usually choose.
    Zstd,
    /// Column chunks left uncompressed.
    None,
}

impl ParquetCompression {
    /// Every compression, in the order the window offers them.
    pub const ALL: [ParquetCompression; 3] = [Self::Snappy, Self::Zstd, Self::None];

    /// The name the window shows and a saved spec uses (`zstd`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Snappy => "snappy",
            Self::Zstd => "zstd",
            Self::None => "none",
        }
    }

    /// The COPY option's value; from this enum only, never from user text.
    pub(super) fn sql(&self) -> &'static str {
        match self {
            Self::Snappy => "snappy",
            Self::Zstd => "zstd",
            Self::None => "uncompressed",
        }
    }
}

/// Parquet's own settings of an export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct ParquetOptions {
    /// How the column chunks are compressed; Snappy unless chosen otherwise.
    pub compression: ParquetCompression,
    /// Rows per row group; DuckDB's default (122,880) when `None`.
    pub row_group_rows: Option<u64>,
    /// Write a Hive-partitioned folder, one subfolder per value of these columns in turn.
    pub partition_by: Vec<String>,
}
