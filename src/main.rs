//! The `sluice` binary: the command line over the engine in the library crate.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
