//! The server's configuration: every setting in one place, from flags or environment variables, checked at start.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};

/// SRA Sessions: the session-monitoring console of Secure Remote Access.
#[derive(Debug, Clone, Parser)]
#[command(name = "sra-server", version, about, long_about = None)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SRA_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Port to listen on (0: any free port, chosen by the system; the URL printed at start names it).
    #[arg(long, env = "SRA_PORT", default_value_t = 3000)]
    pub port: u16,

    /// Database URL: `sqlite://PATH` or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
    /// Default: the SQLite file `sra.db` in the data folder.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Folder for the embedded SQLite database (created if missing).
    #[arg(long, env = "SRA_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Folder holding the built front end (`pkg/sra.js`, `pkg/sra_bg.wasm`, `pkg/sra.css`, `favicon.svg`).
    #[arg(long, env = "SRA_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Log filter, e.g. `info`, `debug`, or `info,sqlx=warn` (tracing's EnvFilter syntax).
    #[arg(long, env = "SRA_LOG", default_value = "info")]
    pub log_level: String,

    /// Log line format.
    #[arg(long, env = "SRA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Mark the sign-in cookie `Secure` (browsers then send it over HTTPS only). Set it whenever the console is served
    /// over TLS, directly or behind a proxy.
    #[arg(long, env = "SRA_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Serve `/metrics` on the main listener only with `Authorization: Bearer TOKEN`.
    #[arg(long, env = "SRA_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Serve `/metrics` on this address instead (e.g. `10.0.0.5:9100`, reached by the monitoring network only); the
    /// main listener then does not serve it.
    #[arg(long, env = "SRA_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Password of the `admin` user created when the database has no users yet. Without it a random one is generated
    /// and printed once. (Environment only, so it never shows in process lists.)
    #[arg(skip = std::env::var("SRA_ADMIN_PASSWORD").ok())]
    pub admin_password: Option<String>,

    /// Close an active session as failed ("lost") when its gateway has not reported it — by an update or a heartbeat
    /// — for this long: `90s`, `10m`, `1h`.
    #[arg(long, env = "SRA_STALE_AFTER", default_value = "5m", value_parser = parse_span)]
    pub stale_after: std::time::Duration,

    /// The audit key file (the chain key and the checkpoint key; see README "Audit"). Created with mode 0600 at first
    /// start if missing. Every replica must be given the same file. Default: `audit.key` in the data folder.
    #[arg(long, env = "SRA_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,

    /// Where signed checkpoints of the audit chain are appended (one JSON line each; keep this file somewhere the
    /// database's administrators cannot rewrite). Default: `audit-checkpoints.jsonl` in the data folder.
    #[arg(long, env = "SRA_AUDIT_CHECKPOINTS")]
    pub audit_checkpoints: Option<PathBuf>,

    /// How often the chain's head is signed into the checkpoint file (when it moved): `90s`, `10m`, `1h`.
    #[arg(long, env = "SRA_AUDIT_CHECKPOINT_EVERY", default_value = "5m", value_parser = parse_span)]
    pub audit_checkpoint_every: std::time::Duration,

    /// Delete ended sessions this long after they ended: `180d`, `12h` (off unless set). Pruned by one replica at a
    /// time, in small batches, audited.
    #[arg(long, env = "SRA_RETAIN_SESSIONS", value_parser = parse_span)]
    pub retain_sessions: Option<std::time::Duration>,

    /// Delete audit entries recorded this long ago: `400d` (off unless set; needs --retain-sessions, and at least as
    /// long). The chain stays verifiable from a signed anchor.
    #[arg(long, env = "SRA_RETAIN_AUDIT", value_parser = parse_span)]
    pub retain_audit: Option<std::time::Duration>,

    /// How many event streams (`/events/sessions`, `/stream-sra-sessions`) one user may hold open at once.
    #[arg(long, env = "SRA_STREAMS_PER_USER", default_value_t = crate::events::MAX_PER_USER, value_parser = streams_per_user)]
    pub streams_per_user: usize,

    /// Demo mode: seed realistic gateways, users, roles and sessions into an empty database, and keep a few sessions
    /// changing while the server runs.
    #[arg(long, env = "SRA_DEMO", default_value_t = false)]
    pub demo: bool,

    /// Without a command, the server runs.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// 1 to 10,000 streams.
fn streams_per_user(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err(format!("invalid number of streams {text:?}; allowed: 1 to 10000")),
    }
}

/// A span such as `90s`, `10m` or `1h` (at least 10 seconds).
fn parse_span(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = digits.parse().map_err(|_| format!("invalid span {text:?}; expected e.g. 90s, 10m, 1h"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("invalid span {text:?}; expected a number and s, m, h or d, e.g. 90s, 10m, 1h, 180d")),
    };
    if seconds < 10 {
        return Err(format!("span {text:?} is too short; allowed: 10s or more"));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Administer users, roles and gateways in the database (the same `--database-url` / `--data-dir`).
    #[command(subcommand)]
    Admin(crate::admin::AdminCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable `key=value` lines.
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

impl Config {
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }

    /// Who may read `/metrics` on the main listener: with a token if one is set; nobody if it has its own listener;
    /// otherwise anyone, but only when the server listens on loopback — a public bind does not expose it by default.
    pub fn metrics_access(&self) -> crate::observe::MetricsAccess {
        use crate::observe::MetricsAccess;
        match (&self.metrics_token, self.metrics_listen) {
            (Some(token), _) => MetricsAccess::Token(token.clone()),
            (None, Some(_)) => MetricsAccess::Hidden,
            (None, None) if self.bind.is_loopback() => MetricsAccess::Open,
            (None, None) => MetricsAccess::Hidden,
        }
    }

    /// The database to open: `--database-url`, else `sqlite://DATA_DIR/sra.db`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("sra.db").display()),
        }
    }

    /// What `--retain-sessions` and `--retain-audit` keep.
    pub fn retention(&self) -> anyhow::Result<sra_store::Retention> {
        let ms = |d: Option<std::time::Duration>| d.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        sra_store::Retention::new(ms(self.retain_sessions), ms(self.retain_audit))
            .map_err(|e| anyhow::anyhow!("--retain-sessions / --retain-audit: {e}"))
    }

    /// The audit key file: `--audit-key-file`, else `DATA_DIR/audit.key`.
    pub fn audit_key_file(&self) -> PathBuf {
        self.audit_key_file.clone().unwrap_or_else(|| self.data_dir.join("audit.key"))
    }

    /// The audit checkpoint file: `--audit-checkpoints`, else `DATA_DIR/audit-checkpoints.jsonl`.
    pub fn audit_checkpoints(&self) -> PathBuf {
        self.audit_checkpoints.clone().unwrap_or_else(|| self.data_dir.join("audit-checkpoints.jsonl"))
    }

    /// Checks what can be checked before anything starts, with messages that name the setting and the value.
    pub fn validate(&self) -> anyhow::Result<()> {
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .with_context(|| format!("invalid --log-level / SRA_LOG {:?}", self.log_level))?;
        if self.metrics_token.as_deref().is_some_and(|t| t.trim().len() < 16) {
            bail!("invalid --metrics-token / SRA_METRICS_TOKEN: use at least 16 characters");
        }
        if self.metrics_token.as_deref().is_some_and(|t| t.trim().len() < 16) {
            bail!("invalid --metrics-token / SRA_METRICS_TOKEN: use at least 16 characters");
        }
        self.retention()?;
        match &self.database_url {
            None => ensure_writable_dir(&self.data_dir)?,
            Some(url) if url.trim().is_empty() => {
                bail!("DATABASE_URL is set but empty: unset it for the embedded SQLite, or give postgres://…")
            }
            Some(_) => {}
        }
        Ok(())
    }
}

/// Creates `dir` if needed and proves a file can be written in it.
fn ensure_writable_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("data folder --data-dir / SRA_DATA_DIR {} cannot be created", dir.display()))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok")
        .with_context(|| format!("data folder --data-dir / SRA_DATA_DIR {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("sra-server").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn defaults_serve_sqlite_in_the_data_folder_on_loopback() {
        let config = parse(&[]);
        assert_eq!(config.listen_addr().to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url(), "sqlite://data/sra.db");
        assert!(!config.demo);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = Config::try_parse_from(["sra-server", "--port", "http"]).unwrap_err().to_string();
        assert!(err.contains("--port"), "{err}");
        let err = Config::try_parse_from(["sra-server", "--bind", "localhost:80"]).unwrap_err().to_string();
        assert!(err.contains("--bind"), "{err}");
        let err = parse(&["--log-level", "info,=[bad"]).validate().unwrap_err();
        assert!(format!("{err:#}").contains("SRA_LOG"), "{err:#}");
    }

    #[test]
    fn metrics_are_open_on_loopback_only_unless_a_token_or_listener_says_otherwise() {
        use crate::observe::MetricsAccess;
        assert_eq!(parse(&[]).metrics_access(), MetricsAccess::Open);
        assert_eq!(parse(&["--bind", "0.0.0.0"]).metrics_access(), MetricsAccess::Hidden);
        let token = "0123456789abcdef";
        assert_eq!(
            parse(&["--bind", "0.0.0.0", "--metrics-token", token]).metrics_access(),
            MetricsAccess::Token(token.into())
        );
        assert_eq!(parse(&["--metrics-listen", "127.0.0.1:9100"]).metrics_access(), MetricsAccess::Hidden);
        assert!(parse(&["--metrics-token", "short"]).validate().is_err());
    }

    #[test]
    fn an_unwritable_data_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = parse(&["--data-dir", file.to_str().unwrap()]).validate().unwrap_err();
        assert!(err.to_string().contains("cannot be created"), "{err}");
    }
}
