//! A table that already exists and its columns, as the catalog describes them: read by the
//! store, used by the import (an append, a retry), the query layer and the window.

use crate::sql_type::SqlType;

/// A column as the catalog describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// What Sluice compares, casts and binds by.
    pub sql_type: SqlType,
    /// The catalog's own name for the type, for people ("DECIMAL(12,2)", an ENUM's definition).
    pub type_name: String,
}

impl Column {
    /// A column named `name` of the type the catalog calls `type_name`.
    pub fn from_catalog(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        let type_name = type_name.into();
        Self {
            name: name.into(),
            sql_type: SqlType::from_catalog(&type_name),
            type_name,
        }
    }
}

/// A table that already exists, as the catalog describes it.
#[derive(Clone, Debug)]
pub struct ExistingTable {
    /// The table's name.
    pub name: String,
    /// In table order.
    pub columns: Vec<Column>,
}
