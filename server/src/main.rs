//! `sra-server`: see the crate documentation in `lib.rs` and `sra-server --help`.

use std::process::ExitCode;

use clap::Parser;
use sra_server::config::{Command, Config, LogFormat};

#[tokio::main]
async fn main() -> ExitCode {
    return_large_allocations();
    let config = Config::parse();
    if let Err(e) = config.validate() {
        eprintln!("sra-server: {e:#}");
        return ExitCode::from(2);
    }
    if let Some(Command::Admin(command)) = config.command.clone() {
        return admin(&config, command).await;
    }
    init_tracing(&config);
    match sra_server::serve(config, sra_server::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "sra-server failed");
            eprintln!("sra-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Each password check allocates ~19 MiB (Argon2) on one of tokio's blocking threads. glibc raises its mmap threshold
/// after the first such block is freed, so later ones are carved from per-thread arenas and kept: measured, 12 checks
/// across threads left 229 MB resident. A fixed threshold makes every allocation of 4 MiB or more its own mapping,
/// returned to the system when freed.
fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

async fn admin(config: &Config, command: sra_server::admin::AdminCommand) -> ExitCode {
    use sra_server::admin::{AdminCommand, AuditCommand};
    let result = async {
        if let AdminCommand::Audit(AuditCommand::Verify { checkpoints }) = &command {
            // Read-only: no migration, no store; the key file must exist.
            let keys = sra_store::AuditKeys::load(&config.audit_key_file())?;
            return sra_server::admin::verify(&config.database_url(), &keys, checkpoints.as_deref()).await;
        }
        let keys = sra_store::AuditKeys::load_or_create(&config.audit_key_file())?;
        let store = sra_store::Store::connect(&config.database_url(), &keys).await?;
        let outcome = match command {
            AdminCommand::Audit(AuditCommand::Checkpoint) => {
                sra_server::admin::checkpoint(&store, &config.audit_checkpoints()).await
            }
            command => sra_server::admin::run(&store, command).await,
        };
        store.close().await?;
        outcome
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sra-server admin: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) {
    // Validated already; the fallback only guards against a race with the environment.
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
}
