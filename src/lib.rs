//! firelocal: a local AWS emulator for clickstream pipelines, in one process. This file only
//! wires the pieces together; see ARCHITECTURE.md for the codemap.

pub mod bench;
pub mod config;
pub mod console;
pub mod demo;
pub mod engine;
pub mod faults;
#[doc(hidden)]
pub mod fuzzing;
pub mod protocol;
pub mod replay;
pub mod server;
pub mod services;
pub mod snapshot;
pub mod state;

pub use config::Config;

/// Runs the server until SIGINT/SIGTERM: binds, prints the banner, serves, shuts down cleanly.
pub async fn serve(config: Config) -> Result<(), String> {
    let shutdown = server::shutdown_signal();
    let server = server::Server::bind(config.clone()).await?;
    server.init_stacks(&config.init, &config.init_params).await?;
    let addr = server.local_addr().ok_or("the listener has no address")?;
    let services: Vec<&str> = server::router::SERVICES.iter().filter(|s| s.emulated).map(|s| s.name).collect();
    let mut data = config.data_dir.as_ref().map_or("ephemeral state".to_string(), |d| format!("data in {}", d.display()));
    if let Some(s) = &config.snapshot {
        data = format!("{data}, restored from {}", s.display());
    }
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "firelocal {} ready on http://{addr} (region {}, {data}); services: {}",
            server::health::VERSION,
            config.region,
            services.join(", ")
        );
        let _ = writeln!(out, "console: http://{addr}/_firelocal/console/");
        let _ = out.flush();
    }
    server.run(shutdown).await;
    tracing::info!("firelocal stopped");
    Ok(())
}
