//! `sluice-fuzz`: a fuzzer for Sluice's input path that runs on the stable toolchain (cargo-fuzz
//! needs nightly, which not every machine that builds Sluice has). It mutates seed files (the
//! shared CSV corpus and the project's fixtures by default) and runs each result through one
//! target: the record reader, the sniffer and decoder, the value parsers, or a whole import with
//! its accounting checked.
//!
//! A panic anywhere (in a worker thread too), an input that runs longer than the hang limit, or a
//! broken promise stops the run and writes the input to the findings folder, where
//! `--replay FILE` runs it again. Each run prints its seed, so it can be repeated exactly.

mod mutate;
mod targets;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use targets::{Target, Workspace};

/// Panics seen by the hook in Sluice's own code, on any thread.
static PANICS: AtomicU64 = AtomicU64::new(0);
/// Panics inside crates Sluice does not own (calamine, zip, parquet...), which Sluice must
/// contain as that file's error: one that escapes is caught by `run_one` as a finding.
static FOREIGN_PANICS: AtomicU64 = AtomicU64::new(0);
/// The message of the last panic.
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

#[derive(Parser, Debug)]
#[command(
    name = "sluice-fuzz",
    about = "Fuzz Sluice's reader, sniffer, value parsers and imports"
)]
struct Args {
    /// The target; all of them in turn when not given.
    #[arg(long, value_enum)]
    target: Option<Target>,
    /// How long to fuzz each target.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Seed files or folders (every file under them).
    #[arg(long, default_values = ["../shared/corpus/csv", "tests/fixtures"])]
    corpus: Vec<PathBuf>,
    /// Where inputs that broke something are written.
    #[arg(long, default_value = "fuzz-findings")]
    findings: PathBuf,
    /// The random seed; a new one when not given.
    #[arg(long)]
    seed: Option<u64>,
    /// An input taking longer than this is a hang.
    #[arg(long, default_value_t = 20)]
    hang_seconds: u64,
    /// Run this one input through the target (or every target) and report.
    #[arg(long)]
    replay: Option<PathBuf>,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    std::panic::set_hook(Box::new(|info| {
        let foreign = info
            .location()
            .is_some_and(|location| location.file().contains("/.cargo/registry/"));
        if foreign {
            FOREIGN_PANICS.fetch_add(1, Ordering::SeqCst);
            return;
        }
        PANICS.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = info.to_string();
        }
    }));
    let targets: Vec<Target> = args.target.map_or_else(|| Target::ALL.to_vec(), |target| vec![target]);
    if let Some(path) = &args.replay {
        let input = std::fs::read(path)?;
        let mut failed = false;
        for target in targets {
            let mut workspace = Workspace::new()?;
            match run_one(target, &input, &mut workspace) {
                Ok(()) => println!("{}: ok", target.name()),
                Err(problem) => {
                    failed = true;
                    println!("{}: {problem}", target.name());
                }
            }
        }
        return Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS });
    }
    let seeds = mutate::load_seeds(&args.corpus);
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    println!("seed {seed}, {} seed inputs", seeds.len());
    for target in targets {
        if let Err(finding) = fuzz(target, &seeds, seed, &args) {
            eprintln!("{finding}");
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Fuzzes one target for the given time; the finding's description when it found one.
fn fuzz(target: Target, seeds: &[Vec<u8>], seed: u64, args: &Args) -> anyhow::Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut workspace = Workspace::new().map_err(|error| error.to_string())?;
    let current: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
    let started_input = Arc::new(AtomicU64::new(0));
    let clock = Instant::now();
    let watchdog = start_watchdog(
        target,
        Arc::clone(&current),
        Arc::clone(&started_input),
        clock,
        Duration::from_secs(args.hang_seconds),
        args.findings.clone(),
    );
    let deadline = clock + Duration::from_secs(args.seconds);
    let mut executions: u64 = 0;
    let mut next_report = clock + Duration::from_secs(60);
    while Instant::now() < deadline {
        let input = mutate::mutated(seeds, &mut rng);
        if let Ok(mut shared) = current.lock() {
            shared.clone_from(&input);
        }
        started_input.store(clock.elapsed().as_millis() as u64 + 1, Ordering::SeqCst);
        let outcome = run_one(target, &input, &mut workspace);
        started_input.store(0, Ordering::SeqCst);
        executions += 1;
        if let Err(problem) = outcome {
            let path = save_finding(&args.findings, target, &input);
            return Err(format!(
                "{}: {problem}\ninput written to {} (replay: sluice-fuzz --target {} --replay {0:?})",
                target.name(),
                path.display(),
                target.name()
            ));
        }
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(60);
            println!(
                "{}: {executions} executions in {} s",
                target.name(),
                clock.elapsed().as_secs()
            );
        }
    }
    drop(watchdog);
    println!(
        "{}: {executions} executions in {:.0} s, 0 findings (crashes, hangs, wrong answers); \
         {} panics inside other crates contained",
        target.name(),
        clock.elapsed().as_secs_f64(),
        FOREIGN_PANICS.swap(0, Ordering::SeqCst)
    );
    Ok(())
}

/// Runs one input, turning a panic (on this thread or any other) into a finding.
fn run_one(target: Target, input: &[u8], workspace: &mut Workspace) -> Result<(), String> {
    let panics_before = PANICS.load(Ordering::SeqCst);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| targets::run(target, input, workspace)));
    let last_panic = || LAST_PANIC.lock().map(|last| last.clone()).unwrap_or_default();
    match outcome {
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {} {message}", last_panic()))
        }
        Ok(_) if PANICS.load(Ordering::SeqCst) != panics_before => Err(format!("a thread panicked: {}", last_panic())),
        Ok(result) => result,
    }
}

/// A thread that writes the running input out and ends the process when one input runs longer
/// than `limit`. Stops when the returned guard is dropped.
fn start_watchdog(
    target: Target,
    current: Arc<Mutex<Vec<u8>>>,
    started_input: Arc<AtomicU64>,
    clock: Instant,
    limit: Duration,
    findings: PathBuf,
) -> crossbeam_channel::Sender<()> {
    let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
    let spawned = std::thread::Builder::new().name("fuzz-watchdog".into()).spawn(move || {
        while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = stopped.recv_timeout(Duration::from_secs(1)) {
            let started = started_input.load(Ordering::SeqCst);
            if started == 0 {
                continue;
            }
            let running = clock.elapsed().saturating_sub(Duration::from_millis(started - 1));
            if running > limit {
                let input = current.lock().map(|input| input.clone()).unwrap_or_default();
                let path = save_finding(&findings, target, &input);
                eprintln!(
                    "{}: hang: one input ran for {} s; written to {}",
                    target.name(),
                    running.as_secs(),
                    path.display()
                );
                std::process::exit(2);
            }
        }
    });
    if let Err(error) = spawned {
        eprintln!("no watchdog, hangs will not be caught: {error}");
    }
    stop
}

fn save_finding(folder: &Path, target: Target, input: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(folder);
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
    });
    let path = folder.join(format!("{}-{hash:016x}.bin", target.name()));
    let _ = std::fs::write(&path, input);
    path
}
