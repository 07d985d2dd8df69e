//! The command line: parses arguments, runs the engine, prints for people or (with `--json`) for
//! scripts. Errors become one readable line and a non-zero exit code here, and nowhere deeper.

mod bench;
mod bench_browse;
mod bench_child;
mod bench_clean;
mod bench_failed;
mod bench_files;
mod bench_fix;
mod bench_shapes;
mod bench_sniff;
mod bench_xlsx;
mod export;
mod fix;
mod follow;
mod import;
mod recipes;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sluice::store::{Store, StoreOptions, default_database_path};

/// Move millions of rows between CSV files and a local DuckDB database, losing none.
/// Without a command, opens the window.
#[derive(Parser, Debug)]
#[command(name = "sluice", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

/// Options every command that touches the database takes.
#[derive(clap::Args, Debug, Clone)]
pub struct DbArgs {
    /// The DuckDB database file (default: sluice.duckdb in your data folder).
    #[arg(long, env = "SLUICE_DB", global = true)]
    db: Option<PathBuf>,
    /// DuckDB's memory limit, such as 2GB.
    #[arg(long, global = true)]
    memory_limit: Option<String>,
    /// DuckDB's worker threads.
    #[arg(long, global = true)]
    duckdb_threads: Option<usize>,
}

fn gui(db: &DbArgs, files: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    crate::app::run(crate::app::Launch {
        db_path: db.db.clone(),
        memory_limit: db.memory_limit.clone(),
        duckdb_threads: db.duckdb_threads,
        files,
    })?;
    Ok(ExitCode::SUCCESS)
}

impl DbArgs {
    /// The options as the environment gives them, for `sluice` run without a command.
    fn from_env() -> Self {
        Self {
            db: std::env::var_os("SLUICE_DB").map(PathBuf::from),
            memory_limit: None,
            duckdb_threads: None,
        }
    }

    fn path(&self) -> anyhow::Result<PathBuf> {
        Ok(match &self.db {
            Some(path) => path.clone(),
            None => default_database_path()?,
        })
    }

    pub fn open(&self) -> anyhow::Result<Store> {
        let options = StoreOptions {
            memory_limit: self.memory_limit.clone(),
            threads: self.duckdb_threads,
        };
        let store = Store::open(&self.path()?, &options)?;
        sluice::engine::remove_leftovers_of_interrupted_jobs(&store);
        Ok(store)
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the window (the default with no command), with FILEs ready to import.
    Gui {
        files: Vec<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Import files into a table: CSV, TSV or text (plain or packed), workbooks, Parquet, JSON lines.
    Import(import::ImportArgs),
    /// Export a table, or a filtered slice of it, to CSV, gzip CSV, chunks, Excel or Parquet.
    Export(export::ExportArgs),
    /// Show the failed rows of an import as an error report, or what is wrong with them.
    Failed(report::FailedArgs),
    /// Fix an import's failed rows by the group: preview a rule over every row, or apply it.
    Fix(fix::FixArgs),
    /// List jobs, newest first.
    Jobs(report::JobsArgs),
    /// List, show, write or read the recipes kept by `sluice fix --save-recipe`.
    Recipes(recipes::RecipesArgs),
    /// Measure Sluice's imports, exports and reads, beside DuckDB doing the same work.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Exit code of a job that was cancelled (as for Ctrl-C in a shell).
const EXIT_CANCELLED: u8 = 130;

pub fn run() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    // clap's derive flattens repeated multi-value options; `--where` needs its groups.
    let filter_groups: Vec<Vec<String>> = matches
        .subcommand_matches("export")
        .and_then(|export| export.get_occurrences::<String>("where"))
        .map(|groups| groups.map(|group| group.cloned().collect()).collect())
        .unwrap_or_default();
    if matches!(
        cli.command,
        Some(
            Command::Import(_)
                | Command::Export(_)
                | Command::Failed(_)
                | Command::Fix(_)
                | Command::Jobs(_)
                | Command::Recipes(_)
                | Command::Bench(_)
        )
    ) {
        die_quietly_on_closed_pipe();
    }
    let result = match cli.command {
        None => gui(&DbArgs::from_env(), Vec::new()),
        Some(Command::Gui { files, db }) => gui(&db, files),
        Some(Command::Import(args)) => import::run(args),
        Some(Command::Export(args)) => export::run(args, filter_groups),
        Some(Command::Failed(args)) => report::failed(args).map(|()| ExitCode::SUCCESS),
        Some(Command::Fix(args)) => fix::run(args),
        Some(Command::Jobs(args)) => report::jobs(args).map(|()| ExitCode::SUCCESS),
        Some(Command::Recipes(args)) => recipes::run(args),
        Some(Command::Bench(command)) => bench::run(command).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// Has a command whose output goes into a pipe that closes (`sluice jobs | head -1`) end as
/// other command-line tools do, at once and quietly, instead of panicking on its next line of
/// output. Rust ignores SIGPIPE, so every write would fail with a broken pipe. A job cut short
/// this way never committed, and is marked as interrupted at the next start, as after any crash.
fn die_quietly_on_closed_pipe() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: restores the signal's default action before any thread of ours writes output.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// An error and its causes on one line, without repeating a cause the message already includes.
fn one_line(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text.replace('\n', " ")
}

fn parse_single_byte(text: &str, what: &str) -> anyhow::Result<u8> {
    let byte = match text {
        "\\t" | "tab" | "TAB" => b'\t',
        _ => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii() => c as u8,
                _ => anyhow::bail!("the {what} must be one ASCII character (or \\t), not '{text}'"),
            }
        }
    };
    Ok(byte)
}
