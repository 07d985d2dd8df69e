//! A table that already exists, read from the catalog for an append or a retry.

/// A table that already exists, as the catalog describes it.
#[derive(Clone, Debug)]
pub struct ExistingTable {
    pub name: String,
    /// (column name, DuckDB type name), in table order.
    pub columns: Vec<(String, String)>,
}
