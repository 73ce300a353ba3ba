//! The `epa-panel` binary: tracing, the command line, and off it goes.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal: piped or redirected logs stay plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = epa_panel::cli::Cli::parse();
    match epa_panel::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("epa-panel: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
