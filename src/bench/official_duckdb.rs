//! DuckDB as people install it: the official `duckdb` Python package, run in its own process on
//! statements Sluice's benchmarks write. The DuckDB compiled into Sluice is built from source
//! with Sluice's compiler flags, so it is not the build a comparison should be anchored to.
//!
//! The statements go to a small Python program on standard input as JSON, and it answers with
//! the package's version and, per statement, whether it ran and how long it took. What the
//! statements create stays in a database file the caller can open afterwards.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The program the Python interpreter runs: each statement in order on one connection, timed;
/// a statement that fails is reported and the next one runs.
const RUNNER: &str = r#"
import json, sys, time
try:
    import duckdb
except ImportError as error:
    print(json.dumps({"error": str(error)}))
    sys.exit(0)
job = json.load(sys.stdin)
connection = duckdb.connect(job["database"])
results = []
for statement in job["statements"]:
    started = time.perf_counter()
    try:
        connection.execute(statement)
        results.append({"ok": True, "seconds": time.perf_counter() - started})
    except Exception as error:
        results.append({"ok": False, "seconds": time.perf_counter() - started, "error": str(error)})
connection.close()
print(json.dumps({"version": duckdb.__version__, "results": results}))
"#;

/// Why the official DuckDB could not be run.
#[derive(Debug, thiserror::Error)]
pub enum OfficialDuckdbError {
    /// The Python interpreter could not be started.
    #[error("cannot start {python}: {source} (the official DuckDB runs in Python: pip install duckdb==2.0.0)")]
    Start {
        /// The interpreter asked for.
        python: String,
        /// Why it could not be started.
        source: std::io::Error,
    },
    /// The interpreter has no `duckdb` package to import.
    #[error("{python} has no duckdb package ({reason}): pip install duckdb==2.0.0")]
    NotInstalled {
        /// The interpreter asked for.
        python: String,
        /// Python's own words for the failed import.
        reason: String,
    },
    /// The program ended without writing its answer.
    #[error("{python} ended without an answer (exit {status}): {stderr}")]
    NoAnswer {
        /// The interpreter asked for.
        python: String,
        /// How the process exited.
        status: String,
        /// What the process wrote to its standard error.
        stderr: String,
    },
}

/// One statement's outcome.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct StatementRun {
    /// Whether the statement ran without an error.
    pub ok: bool,
    /// How long it took, in seconds.
    pub seconds: f64,
    /// The error it ended with, when it failed.
    #[serde(default)]
    pub error: Option<String>,
}

/// What the official DuckDB did with the statements, in their order.
#[derive(Clone, Debug)]
pub struct OfficialRun {
    /// The version of the `duckdb` package that ran them.
    pub version: String,
    /// Each statement's outcome, in the order they were given.
    pub results: Vec<StatementRun>,
}

#[derive(serde::Deserialize)]
struct Answer {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    results: Vec<StatementRun>,
    #[serde(default)]
    error: Option<String>,
}

/// Runs `statements` with the official DuckDB of `python` on the database file `database`
/// (created when missing), which is closed when this returns.
pub fn run_official_duckdb(
    python: &str,
    database: &Path,
    statements: &[String],
) -> Result<OfficialRun, OfficialDuckdbError> {
    let start = |source| OfficialDuckdbError::Start {
        python: python.to_string(),
        source,
    };
    let mut child = Command::new(python)
        .args(["-c", RUNNER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(start)?;
    let job = serde_json::json!({
        "database": database.to_string_lossy(),
        "statements": statements,
    });
    if let Some(mut stdin) = child.stdin.take() {
        // A program that ended early (no duckdb) closes its input: its answer says why.
        let _ = stdin.write_all(job.to_string().as_bytes());
    }
    let output = child.wait_with_output().map_err(start)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str::<Answer>(line).ok());
    match answer {
        Some(Answer {
            version: Some(version),
            results,
            ..
        }) => Ok(OfficialRun { version, results }),
        Some(Answer {
            error: Some(reason), ..
        }) => Err(OfficialDuckdbError::NotInstalled {
            python: python.to_string(),
            reason,
        }),
        _ => Err(OfficialDuckdbError::NoAnswer {
            python: python.to_string(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        }),
    }
}
