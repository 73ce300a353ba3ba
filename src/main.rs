//! The `epa-panel` binary: tracing, the command line, and off it goes.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
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
