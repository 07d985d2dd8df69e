//! `sluice bench browse`: Browse on a big table under the window's DuckDB memory default. A page
//! must read in under 50 ms wherever it is and however the table is sorted, and sorting must not
//! take memory past the bound the window gives DuckDB.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use sluice::browse::{BrowseQuery, index_pages, read_page};
use sluice::export::OrderBy;
use sluice::store::{Store, StoreOptions};

use crate::app::{BROWSE_PAGE_ROWS, DEFAULT_MEMORY_LIMIT};
use crate::format::{mebibytes, thousands};

/// What a page read must stay under.
const PAGE_BUDGET_MS: f64 = 50.0;

pub fn bench_browse(rows: u64, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (_temp, dir) = super::bench_child::bench_dir(dir)?;
    let db_path = dir.join("bench-browse.duckdb");
    let _ = std::fs::remove_file(&db_path);
    let _ = std::fs::remove_file(db_path.with_extension("duckdb.wal"));
    eprintln!("Building a table of {} rows...", thousands(rows));
    // In a child process, so that building the table does not count in this one's peak memory.
    let built = std::process::Command::new(std::env::current_exe()?)
        .args([
            "bench",
            "table",
            "--table",
            "people",
            "--rows",
            &rows.to_string(),
            "--db",
        ])
        .arg(&db_path)
        .status()
        .context("cannot start the process that builds the table")?;
    if !built.success() {
        anyhow::bail!("building the table failed ({built})");
    }
    let options = StoreOptions {
        memory_limit: Some(DEFAULT_MEMORY_LIMIT.to_string()),
        ..StoreOptions::default()
    };
    let store = Store::open(&db_path, &options)?;
    let conn = store.conn();
    println!(
        "Table of {} rows; DuckDB memory limit {DEFAULT_MEMORY_LIMIT} (the window's default); peak RSS before browsing {}",
        thousands(rows),
        peak()
    );
    let mut slowest = 0.0f64;
    for sort in [
        None,
        Some(("age", false)),
        Some(("email", true)),
        Some(("amount", false)),
        Some(("name", false)),
        Some(("last_login", true)),
    ] {
        let query = BrowseQuery {
            table: "people".into(),
            filters: Vec::new(),
            sort: sort.map(|(column, descending)| OrderBy {
                column: column.into(),
                descending,
            }),
        };
        let described = sort.map_or_else(
            || "table order".to_string(),
            |(column, descending)| format!("sorted by {column}{}", if descending { " desc" } else { "" }),
        );
        let started = Instant::now();
        let index = index_pages(conn, &query, BROWSE_PAGE_ROWS)?;
        println!(
            "{described}: page index of {} pages in {:.2} s, peak RSS {}",
            thousands(index.pages()),
            started.elapsed().as_secs_f64(),
            peak()
        );
        for (name, page) in [
            ("start", 0),
            ("middle", index.pages() / 2),
            ("end", index.pages().saturating_sub(1)),
        ] {
            let mut best = f64::MAX;
            let mut read = 0;
            for _ in 0..3 {
                let started = Instant::now();
                read = read_page(conn, &index, page)?.len();
                best = best.min(started.elapsed().as_secs_f64() * 1000.0);
            }
            slowest = slowest.max(best);
            println!("  page {page:>6} ({name:<6}): {read} rows in {best:.1} ms (best of 3)");
        }
    }
    println!(
        "Slowest page: {slowest:.1} ms, {} the {PAGE_BUDGET_MS:.0} ms budget; peak RSS {}",
        if slowest < PAGE_BUDGET_MS { "within" } else { "OVER" },
        peak()
    );
    Ok(())
}

fn peak() -> String {
    sluice::memory::peak_rss_bytes()
        .context("no peak memory reading")
        .map_or_else(|error| error.to_string(), mebibytes)
}
