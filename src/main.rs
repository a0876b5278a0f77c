//! The `firelocal` command line: parse arguments, then call into the library.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "firelocal", version, about = "A local AWS emulator for clickstream pipelines, in one process")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the emulator (every service on one port).
    Serve(firelocal::Config),
    /// Run a benchmark against a freshly started firelocal and print the figures.
    Bench(firelocal::bench::BenchArgs),
    /// Run the seed's whole pipeline: deploy it, send clicks, query them, then keep serving.
    Demo(firelocal::demo::DemoArgs),
    /// Write seeded clickstream events as NDJSON on stdout.
    GenEvents(firelocal::demo::GenArgs),
    /// Send a recording's requests (`serve --record`) again and report every response that differs.
    Replay(firelocal::replay::ReplayArgs),
    /// Save a running firelocal's whole state to a file, or unpack one into a data directory.
    Snapshot(firelocal::snapshot::SnapshotArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => {
            let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_target(false)
                .init();
            let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("firelocal: cannot start the runtime: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            exit("firelocal", rt.block_on(firelocal::serve(config)))
        }
        Command::Demo(args) => exit("firelocal demo", firelocal::demo::run(args)),
        Command::Replay(args) => exit("firelocal replay", firelocal::replay::run(args)),
        Command::Snapshot(args) => exit("firelocal snapshot", firelocal::snapshot::run(args)),
        Command::GenEvents(args) => exit("firelocal gen-events", firelocal::demo::gen_events(&args)),
        Command::Bench(args) => exit("firelocal bench", firelocal::bench::run(args)),
    }
}

/// The process's exit status for a command's outcome; an error is printed after `what`.
fn exit(what: &str, result: Result<(), String>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{what}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
