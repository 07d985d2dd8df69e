//! What an import's mode does with its table as it stands: creates it, adds to it, replaces it or
//! updates it by key, or refuses. The job and the window's check before Start both ask here, so
//! a mode the table does not allow is refused by one rule, in one wording, wherever it is chosen.

use crate::import::{ImportError, ImportMode};
use crate::records::ExistingTable;

/// How the target table is prepared inside the transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableSetup {
    /// The table is created; there is none of its name.
    Create,
    /// The table is created anew, replacing any of its name.
    Replace,
    /// The rows go into the table as it stands, once any columns asked for are added.
    Existing,
}

/// What an import will do to its table.
#[derive(Clone, Debug)]
pub struct Target {
    /// How the table is prepared for the rows.
    pub setup: TableSetup,
    /// The table's name: as stored when it exists (whatever its case in the request).
    pub name: String,
    /// The table the rows are planned against and added to; none when it is created or replaced.
    pub existing: Option<ExistingTable>,
}

/// What an import in `mode` into `table` does, given the table as it stands (`existing`).
pub fn target(mode: ImportMode, table: &str, existing: Option<ExistingTable>) -> Result<Target, ImportError> {
    let (setup, name, existing) = match (mode, existing) {
        (ImportMode::Create, Some(table)) => return Err(ImportError::TableExists { table: table.name }),
        (ImportMode::Create, None) => (TableSetup::Create, table.to_string(), None),
        (ImportMode::Append, None) => {
            return Err(ImportError::TableMissing {
                table: table.to_string(),
            });
        }
        (ImportMode::Append | ImportMode::Upsert, Some(table)) => {
            (TableSetup::Existing, table.name.clone(), Some(table))
        }
        (ImportMode::Replace, Some(table)) => (TableSetup::Replace, table.name, None),
        (ImportMode::Replace, None) => (TableSetup::Replace, table.to_string(), None),
        (ImportMode::Upsert, None) => (TableSetup::Create, table.to_string(), None),
    };
    Ok(Target { setup, name, existing })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> ExistingTable {
        ExistingTable {
            name: "People".into(),
            columns: Vec::new(),
        }
    }

    #[test]
    fn each_mode_meets_the_table_as_it_stands() {
        assert!(matches!(
            target(ImportMode::Create, "people", Some(people())),
            Err(ImportError::TableExists { .. })
        ));
        assert!(matches!(
            target(ImportMode::Append, "people", None),
            Err(ImportError::TableMissing { .. })
        ));
        let appended = target(ImportMode::Append, "people", Some(people())).unwrap();
        assert_eq!(
            (appended.setup, appended.name.as_str()),
            (TableSetup::Existing, "People")
        );
        assert!(appended.existing.is_some());
        let replaced = target(ImportMode::Replace, "people", Some(people())).unwrap();
        assert_eq!(
            (replaced.setup, replaced.name.as_str()),
            (TableSetup::Replace, "People")
        );
        assert!(replaced.existing.is_none());
        let created = target(ImportMode::Upsert, "people", None).unwrap();
        assert_eq!(created.setup, TableSetup::Create);
    }
}
