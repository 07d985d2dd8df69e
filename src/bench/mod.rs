//! Synthetic data for `sluice bench` and for tests: a CSV of people-like records with a known set
//! of faulty rows, and the schema that catches them.
//!
//! The generator is deterministic (seeded), so two runs measure the same bytes.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::import::{ColumnSpec, ColumnType, SchemaFile};

mod clean_twin;
mod duckdb_side;
mod official_duckdb;

pub use clean_twin::{TableText, TwinScore, read_table, read_twin, same_value, score_against_twin};
pub use duckdb_side::{
    DuckdbRead, create_people_table, duckdb_copy_people, duckdb_copy_people_partitioned, duckdb_read_people,
    official_duckdb_sniffs, people_duckdb_columns,
};
pub use official_duckdb::{OfficialDuckdbError, OfficialRun, StatementRun, run_official_duckdb};

const FIRST_NAMES: [&str; 16] = [
    "Ada", "Alan", "Grace", "Linus", "Edsger", "Barbara", "Ken", "Dennis", "Margaret", "John", "Frances", "Niklaus",
    "Radia", "Tony", "Leslie", "Donald",
];
const LAST_NAMES: [&str; 16] = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Dijkstra", "Liskov", "Thompson", "Ritchie", "Hamilton", "Backus",
    "Allen", "Wirth", "Perlman", "Hoare", "Lamport", "Knuth",
];
const COUNTRIES: [&str; 8] = ["DE", "FR", "US", "GB", "NL", "SE", "JP", "BR"];

/// One faulty row in this many; the faults rotate through five kinds.
pub const FAULT_EVERY: u64 = 997;

/// What was generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generated {
    /// Data rows written (the header is not counted).
    pub rows: u64,
    /// Of those rows, the ones made faulty on purpose.
    pub faulty_rows: u64,
    /// Size of the file written, in bytes.
    pub bytes: u64,
}

/// Writes `rows` data rows (plus a header) to `path`.
pub fn write_people_csv(path: &Path, rows: u64) -> io::Result<Generated> {
    let file = std::fs::File::create(path)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(b"id,name,email,age,country,signup_date,last_login,amount\n")?;
    let mut rng = fastrand::Rng::with_seed(0x5EED);
    let mut faulty_rows = 0;
    for id in 1..=rows {
        let first = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.usize(..LAST_NAMES.len())];
        let age = rng.u32(18..=90);
        let country = COUNTRIES[rng.usize(..COUNTRIES.len())];
        let (year, month, day) = (rng.u32(2015..=2024), rng.u32(1..=12), rng.u32(1..=28));
        let (hour, minute, second) = (rng.u32(0..24), rng.u32(0..60), rng.u32(0..60));
        let cents = rng.u32(0..1_000_000);
        let fault = (id % FAULT_EVERY == 0).then_some((id / FAULT_EVERY) % 5);
        faulty_rows += u64::from(fault.is_some());
        let email = if fault == Some(1) {
            format!("{first}.{last}")
        } else {
            format!("user{id}@example.com")
        };
        let age = if fault == Some(0) {
            "old".to_string()
        } else {
            age.to_string()
        };
        let country = if fault == Some(3) { "XX" } else { country };
        let date = if fault == Some(4) {
            format!("{year}-13-{day:02}")
        } else {
            format!("{year}-{month:02}-{day:02}")
        };
        if fault == Some(2) {
            writeln!(out, "{id},{first} {last},{email},{age},{country},{date}")?;
            continue;
        }
        writeln!(
            out,
            "{id},{first} {last},{email},{age},{country},{date},{year}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02},{}.{:02}",
            cents / 100,
            cents % 100
        )?;
    }
    out.flush()?;
    let bytes = out.get_ref().metadata()?.len();
    Ok(Generated {
        rows,
        faulty_rows,
        bytes,
    })
}

/// The schema that types the generated file and rejects exactly its faulty rows.
pub fn people_schema() -> SchemaFile {
    let mut id = ColumnSpec::new("id", ColumnType::BigInt);
    id.required = true;
    let mut email = ColumnSpec::new("email", ColumnType::Varchar);
    email.pattern = Some(r"[^@\s]+@[^@\s]+\.[a-z]+".into());
    let mut age = ColumnSpec::new("age", ColumnType::Integer);
    age.min = Some(0.0);
    age.max = Some(150.0);
    let mut country = ColumnSpec::new("country", ColumnType::Varchar);
    country.one_of = Some(COUNTRIES.iter().map(|c| c.to_string()).collect());
    let mut amount = ColumnSpec::new(
        "amount",
        ColumnType::Decimal {
            precision: 12,
            scale: 2,
        },
    );
    amount.min = Some(0.0);
    SchemaFile {
        columns: vec![
            id,
            ColumnSpec::new("name", ColumnType::Varchar),
            email,
            age,
            country,
            ColumnSpec::new("signup_date", ColumnType::Date),
            ColumnSpec::new("last_login", ColumnType::Timestamp),
            amount,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_the_promised_number_of_rows_and_faults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.csv");
        let generated = write_people_csv(&path, 2 * FAULT_EVERY).unwrap();
        assert_eq!(generated.faulty_rows, 2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count() as u64, 1 + 2 * FAULT_EVERY);
        assert!(duckdb_side::people_duckdb_columns().contains("'amount': 'DECIMAL(12,2)'"));
    }
}
