//! The command line: commands, flags and their help texts.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sra",
    version,
    about = "List, audit and terminate Secure Remote Access sessions from a terminal.",
    long_about = "List, audit and terminate Secure Remote Access sessions from a terminal.\n\n\
                  Authenticate once with `sra auth`; the token is kept in a profile under your config directory \
                  (file mode 0600) together with the server's URL. Every command shows exactly what the console \
                  shows you: your own sessions, plus those of the gateways your roles grant.",
    after_help = "Examples:\n  \
                  sra auth --gateway-url https://sra.example.com --access-id p-abc123 --access-key KEY\n  \
                  sra list-sra-sessions\n  \
                  sra list-sra-sessions --status-type failed,terminated --resource-type ssh --from 24h\n  \
                  sra audit 7f0c5c1e-58d4-4a6a-9a51-2b1d1f0f3e11\n  \
                  sra terminate 7f0c5c1e-58d4-4a6a-9a51-2b1d1f0f3e11\n\n\
                  Exit codes: 0 success, 1 the server refused or could not be reached, 2 usage error."
)]
pub struct Cli {
    /// Profile holding the server URL and token.
    #[arg(long, global = true, env = "SRA_PROFILE", default_value = "default")]
    pub profile: String,
    /// The SRA Sessions server, e.g. https://sra.example.com (default: the profile's).
    #[arg(long, global = true, env = "SRA_GATEWAY_URL", value_name = "URL")]
    pub gateway_url: Option<String>,
    /// A bearer token to use instead of the profile's.
    #[arg(long, global = true, env = "SRA_TOKEN", hide_env_values = true, allow_hyphen_values = true)]
    pub token: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Authenticate and keep the token in the profile.
    #[command(after_help = "Examples:\n  \
                  sra auth --gateway-url http://127.0.0.1:3000 --access-id p-abc123 --access-key KEY\n  \
                  sra auth --admin-email olivia            # asks for the password\n  \
                  SRA_PASSWORD=… sra auth --admin-email olivia --profile prod")]
    Auth(AuthArgs),
    /// List sessions: the active ones (connecting, connected) unless --status-type says otherwise.
    #[command(after_help = "Examples:\n  \
                  sra list-sra-sessions\n  \
                  sra list-sra-sessions --status-type failed --status-type terminated\n  \
                  sra list-sra-sessions --status-type completed --resource-type ssh,rdp --from 7d --all-pages\n  \
                  sra list-sra-sessions --gateway gw-eu-1 --search bastion --sort -duration --json")]
    ListSraSessions(ListArgs),
    /// Show a session's audit trail, or the audit entries you may see by actor and time.
    #[command(after_help = "Examples:\n  \
                  sra audit 7f0c5c1e-58d4-4a6a-9a51-2b1d1f0f3e11          # one session's trail, oldest first\n  \
                  sra audit --actor gateway:gw-eu-1 --from 24h            # newest first\n  \
                  sra audit --action session.terminate_requested --from 7d\n  \
                  sra audit --actor user:olivia --from 2026-11-01 --to 2026-11-30 --all-pages --json")]
    Audit(AuditArgs),
    /// Ask the gateways to end sessions, for a reason (needs All, or Own on each session's gateway).
    #[command(after_help = "Examples:\n  \
                  sra terminate 7f0c5c1e-58d4-4a6a-9a51-2b1d1f0f3e11 --reason \"leaked credentials\"\n  \
                  sra terminate --user mallory --dry-run              # which would end, which would be skipped\n  \
                  sra terminate --gateway gw-eu-1 --reason \"host compromised\"\n\n\
                  A session shows as terminating until its gateway reports it terminated. Sessions you may see but not \
                  terminate are listed as skipped.")]
    Terminate(TerminateArgs),
    /// List the users kept from opening new sessions on a gateway (blocked with a termination), or lift a block.
    #[command(after_help = "Examples:\n  \
                  sra blocks                 # live blocks you may see, soonest to end first\n  \
                  sra blocks --lift 12       # needs All, or Own on the block's gateway")]
    Blocks(BlocksArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  sra completions bash > ~/.local/share/bash-completion/completions/sra")]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct AuthArgs {
    /// API key ID (p-…).
    #[arg(long, conflicts_with = "admin_email", required_unless_present = "admin_email")]
    pub access_id: Option<String>,
    /// API key secret.
    // Keys are base64url: one may well start with "-".
    #[arg(long, env = "SRA_ACCESS_KEY", hide_env_values = true, requires = "access_id", allow_hyphen_values = true)]
    pub access_key: Option<String>,
    /// Login, to authenticate with a password instead of an API key.
    #[arg(long, visible_alias = "login")]
    pub admin_email: Option<String>,
    /// Password (else SRA_PASSWORD, else asked for).
    #[arg(
        long,
        visible_alias = "password",
        env = "SRA_PASSWORD",
        hide_env_values = true,
        requires = "admin_email",
        allow_hyphen_values = true
    )]
    pub admin_password: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Statuses: connecting, connected, failed, completed, terminated [default: connecting,connected].
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    pub status_type: Vec<String>,
    /// Resource types: ssh, rdp, mysql, postgres, mssql, mongodb, oracle, redis, k8s, eks, gke, aks, aws, azure,
    /// gcp, web [default: all].
    #[arg(long, value_name = "TYPE", value_delimiter = ',')]
    pub resource_type: Vec<String>,
    /// Client interfaces: web_portal_cli, web_portal_web, cli, desktop_app [default: all].
    #[arg(long, value_name = "INTERFACE", value_delimiter = ',')]
    pub client_interface: Vec<String>,
    /// Gateway cluster names [default: all you may see].
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub gateway: Vec<String>,
    /// Users, exactly as sessions record them [default: every user you may see].
    #[arg(long, value_name = "USER", value_delimiter = ',')]
    pub user: Vec<String>,
    /// Text to look for in the user, session ID, secret, target name and host (case-insensitive).
    #[arg(long)]
    pub search: Option<String>,
    /// Start of the timeframe: RFC 3339 (2026-11-28T09:00:00Z, 2026-11-28) or a time ago (90m, 24h, 7d)
    /// [default: 30 days before --to].
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the timeframe, as --from [default: now].
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Sort: start_time, duration, user, gateway, resource_type, client_interface, secret_name, session_id, status;
    /// add :asc or :desc, or prefix - for descending [default: start_time:desc].
    #[arg(long, value_name = "FIELD")]
    pub sort: Option<String>,
    /// Sessions per page, 1 to 500 [default: 50].
    #[arg(long, value_name = "N")]
    pub page_size: Option<u32>,
    /// Continue a listing: the token printed after its previous page (same other flags).
    #[arg(long, value_name = "TOKEN", conflicts_with = "all_pages", allow_hyphen_values = true)]
    pub pagination_token: Option<String>,
    /// Fetch every page.
    #[arg(long)]
    pub all_pages: bool,
    /// Print the API's JSON answer unchanged (with --all-pages: one answer holding every page's sessions).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A session ID: its whole audit trail, oldest first. Without it (or with other filters): the entries you may
    /// see, newest first.
    pub session_id: Option<String>,
    /// Only entries by this actor, as recorded: user:LOGIN, gateway:NAME or system.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only entries of this action (session.terminate_requested) or family (session.*).
    #[arg(long)]
    pub action: Option<String>,
    /// Entries at or after this time: RFC 3339 or a time ago (90m, 24h, 7d).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Entries at or before this time, as --from.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Entries per page, 1 to 500 [default: 100].
    #[arg(long, value_name = "N")]
    pub page_size: Option<u32>,
    /// Continue a listing: the token printed after its previous page.
    #[arg(long, value_name = "TOKEN", conflicts_with = "all_pages", allow_hyphen_values = true)]
    pub pagination_token: Option<String>,
    /// Fetch every page.
    #[arg(long)]
    pub all_pages: bool,
    /// Print the API's JSON answer unchanged.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BlocksArgs {
    /// Lift this block (its ID, as listed).
    #[arg(long, value_name = "ID")]
    pub lift: Option<i64>,
    /// Print the API's JSON answer unchanged.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("selection").required(true).args(["session_ids", "user", "gateway"])))]
pub struct TerminateArgs {
    /// SRA session IDs (at most 500).
    pub session_ids: Vec<String>,
    /// Every active session of this user that you may see.
    #[arg(long)]
    pub user: Option<String>,
    /// Every active session on this gateway (cluster name) that you may see.
    #[arg(long)]
    pub gateway: Option<String>,
    /// Why (1–500 characters): kept with each session and in the audit log.
    #[arg(long, required_unless_present = "dry_run")]
    pub reason: Option<String>,
    /// Also keep each session's user from opening new sessions on its gateway for this long: 30m, 4h, 7d (1m–90d).
    #[arg(long, value_name = "TIME")]
    pub block_for: Option<String>,
    /// Only show which sessions would be terminated and which skipped.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the API's JSON answer unchanged.
    #[arg(long)]
    pub json: bool,
}
