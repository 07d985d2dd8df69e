//! The `sluice` binary: the command line and the desktop window, both thin front ends over the
//! engine in the library crate.

mod app;
mod cli;

use sluice::format;

fn main() -> std::process::ExitCode {
    cli::run()
}
