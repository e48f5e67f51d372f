//! `sra`: the SRA Sessions command line. It talks to the server's HTTP API only (`/auth`, `/list-sra-sessions`,
//! `/list-sra-session-audit`, `/list-sra-audit`, `/terminate-sra-session`,
//! `/terminate-sra-sessions`), with the request and answer types of `sra-api`, and checks flag values with the domain's
//! own parsers before sending, so a typo is named locally with the allowed values (exit 2).

mod cli;
mod client;
mod error;
mod profile;
mod table;

use std::io::{IsTerminal, Write};

use clap::{CommandFactory, Parser};
use sra_api::{
    Auth, AuthOutput, BlockEntry, LiftSraBlock, ListSraAudit, ListSraAuditOutput, ListSraBlocks, ListSraBlocksOutput,
    ListSraSessionAudit, ListSraSessionAuditOutput, ListSraSessions, ListSraSessionsOutput, TerminateSraSession,
    TerminateSraSessionOutput, TerminateSraSessions, TerminateSraSessionsOutput,
};
use sra_domain::{format_duration, format_rfc3339, parse_rfc3339, Millis, RawSessionQuery};

use crate::cli::{AuditArgs, AuthArgs, BlocksArgs, Cli, Command, ListArgs, TerminateArgs};
use crate::client::Client;
use crate::error::CliError;

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Auth(args) => auth(&cli, args),
        Command::ListSraSessions(args) => list(&cli, args),
        Command::Audit(args) => audit(&cli, args),
        Command::Terminate(args) => terminate(&cli, args),
        Command::Blocks(args) => blocks(&cli, args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "sra", &mut out);
            emit(&String::from_utf8_lossy(&out))
        }
    }
}

/// The server to talk to: the flag or `SRA_GATEWAY_URL`, else the profile's (an empty value counts as unset).
fn client(cli: &Cli, profile: &profile::Profile) -> Result<Client, CliError> {
    let given = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let url = given(&cli.gateway_url).or_else(|| given(&profile.gateway_url)).ok_or_else(|| {
        CliError::Usage(format!(
            "no server for profile {:?}: pass --gateway-url URL (or set SRA_GATEWAY_URL), or run `sra auth --gateway-url URL …`",
            cli.profile
        ))
    })?;
    Client::new(&url)
}

/// The token to send: the flag or `SRA_TOKEN`, else the profile's.
fn token(cli: &Cli, profile: &profile::Profile) -> Result<String, CliError> {
    let given = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    given(&cli.token).or_else(|| given(&profile.token)).ok_or_else(|| {
        CliError::Usage(format!("not authenticated (profile {:?}): run `sra auth` first, or pass --token", cli.profile))
    })
}

fn auth(cli: &Cli, args: &AuthArgs) -> Result<(), CliError> {
    let mut saved = profile::load(&cli.profile)?;
    let client = client(cli, &saved)?;
    let request = match (&args.access_id, &args.admin_email) {
        (Some(id), _) => Auth {
            access_type: Some("access_key".into()),
            access_id: Some(id.clone()),
            access_key: Some(args.access_key.clone().ok_or_else(|| {
                CliError::Usage("--access-key (or SRA_ACCESS_KEY) is required with --access-id".into())
            })?),
            ..Auth::default()
        },
        (None, Some(login)) => Auth {
            access_type: Some("password".into()),
            admin_email: Some(login.clone()),
            admin_password: Some(match &args.admin_password {
                Some(password) => password.clone(),
                None => read_password(login)?,
            }),
            ..Auth::default()
        },
        (None, None) => return Err(CliError::Usage("pass --access-id and --access-key, or --admin-email".into())),
    };
    let answer = client.post::<_, AuthOutput>("/auth", &request)?;
    saved.gateway_url = Some(client.url().to_owned());
    saved.token = Some(answer.value.token);
    saved.expiration = Some(answer.value.expiration.clone());
    let path = profile::save(&cli.profile, &saved)?;
    eprintln!(
        "Authenticated to {} (profile {:?}); the token expires at {} and is saved in {}.",
        client.url(),
        cli.profile,
        answer.value.expiration,
        path.display()
    );
    Ok(())
}

fn read_password(login: &str) -> Result<String, CliError> {
    let prompt = format!("Password for {login}: ");
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).map_err(|e| CliError::Local(format!("cannot read the password: {e}")))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| CliError::Local(format!("cannot read the password from stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        return Err(CliError::Usage("no password given (--admin-password, SRA_PASSWORD or stdin)".into()));
    }
    Ok(password)
}

/// The listing's flags, with every value checked by the domain's own parser, as the server will check them: bad
/// values are named here, with what is allowed, before anything is sent. What is sent is then the values as the API
/// spells them (`--status-type Connected` sends `connected`).
fn checked(args: &ListArgs, now: Millis) -> Result<Checked, CliError> {
    let from = args.from.as_deref().map(|t| time_flag("--from", t, now)).transpose()?;
    let to = args.to.as_deref().map(|t| time_flag("--to", t, now)).transpose()?;
    let query = RawSessionQuery {
        range: None,
        from,
        to,
        statuses: args.status_type.clone(),
        resource_types: args.resource_type.clone(),
        client_interfaces: args.client_interface.clone(),
        gateways: args.gateway.clone(),
        users: args.user.clone(),
        search: args.search.clone(),
        sort: args.sort.clone(),
        page_size: args.page_size,
        cursor: None,
    }
    .parse(now)
    .map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(Checked { from, to, query })
}

/// A listing's flags, checked.
struct Checked {
    from: Option<Millis>,
    to: Option<Millis>,
    query: sra_domain::SessionQuery,
}

fn list(cli: &Cli, args: &ListArgs) -> Result<(), CliError> {
    let Checked { from, to, query } = checked(args, now_ms())?;
    let names = |values: &std::collections::BTreeSet<String>| values.iter().cloned().collect::<Vec<_>>();

    let saved = profile::load(&cli.profile)?;
    let client = client(cli, &saved)?;
    let mut request = ListSraSessions {
        token: Some(token(cli, &saved)?),
        status_type: query.statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        resource_type: query.resource_types.iter().map(|s| s.as_str().to_owned()).collect(),
        pagination_token: args.pagination_token.clone(),
        from: from.map(format_rfc3339),
        to: to.map(format_rfc3339),
        gateway: names(&query.gateways),
        user: names(&query.users),
        client_interface: query.client_interfaces.iter().map(|s| s.as_str().to_owned()).collect(),
        search: query.search.clone(),
        sort: args.sort.as_ref().map(|_| query.sort.to_string()),
        page_size: args.page_size,
        ..ListSraSessions::default()
    };
    let Some(answer) = listing(&client, "/list-sra-sessions", &mut request, args.all_pages, args.json)? else {
        return Ok(());
    };
    if answer.sessions.is_empty() {
        let which = if args.status_type.is_empty() { "No active sessions" } else { "No sessions" };
        emit(&format!("{which} match.\n"))?;
    } else {
        emit(&sessions_table(&answer, now_ms()))?;
    }
    if let Some(next) = &answer.next_page {
        eprintln!("More sessions: repeat with --pagination-token {next} (or use --all-pages).");
    }
    Ok(())
}

fn sessions_table(answer: &ListSraSessionsOutput, now: Millis) -> String {
    let headers =
        ["CLIENT INTERFACE", "USER", "GATEWAY", "RESOURCE TYPE", "SECRET", "SESSION ID", "STATUS", "DURATION"];
    let rows: Vec<Vec<String>> = answer
        .sessions
        .iter()
        .map(|s| {
            vec![
                s.client_type.label().to_owned(),
                s.user_identifier.clone(),
                s.gateway_info.cluster_display_name.clone(),
                s.target_type.as_str().to_owned(),
                s.secret_name.clone(),
                s.session_id.clone(),
                match s.termination_requested_at {
                    Some(_) => "terminating…".to_owned(),
                    None => s.status.as_str().to_owned(),
                },
                format_duration(s.end_time.unwrap_or(now) - s.start_time),
            ]
        })
        .collect();
    // Secrets, then gateways, users and interfaces give way; session IDs last (people copy them).
    table::render(&headers, &rows, terminal_width(), &[4, 2, 1, 0, 5])
}

fn audit(cli: &Cli, args: &AuditArgs) -> Result<(), CliError> {
    let now = now_ms();
    let from = args.from.as_deref().map(|t| time_flag("--from", t, now)).transpose()?;
    let to = args.to.as_deref().map(|t| time_flag("--to", t, now)).transpose()?;
    if let Some(size) = args.page_size.filter(|s| !(1..=500).contains(s)) {
        return Err(CliError::Usage(format!("page size {size} is out of range; allowed: 1 to 500")));
    }
    let saved = profile::load(&cli.profile)?;
    let client = client(cli, &saved)?;
    let token = Some(token(cli, &saved)?);
    let filtered = args.actor.is_some()
        || args.action.is_some()
        || from.is_some()
        || to.is_some()
        || args.page_size.is_some()
        || args.pagination_token.is_some()
        || args.all_pages;
    if let (Some(session_id), false) = (&args.session_id, filtered) {
        let request = ListSraSessionAudit { token, session_id: Some(session_id.clone()) };
        let answer = client.post::<_, ListSraSessionAuditOutput>("/list-sra-session-audit", &request)?;
        if args.json {
            return emit(&format!("{}\n", answer.text.trim_end()));
        }
        return emit(&audit_table(&answer.value.entries, false));
    }
    let mut request = ListSraAudit {
        token,
        session_id: args.session_id.clone(),
        actor: args.actor.clone(),
        action: args.action.clone(),
        from: from.map(format_rfc3339),
        to: to.map(format_rfc3339),
        page_size: args.page_size,
        pagination_token: args.pagination_token.clone(),
    };
    let Some(answer) = listing(&client, "/list-sra-audit", &mut request, args.all_pages, args.json)? else {
        return Ok(());
    };
    if answer.entries.is_empty() {
        emit("No audit entries match.\n")?;
    } else {
        emit(&audit_table(&answer.entries, true))?;
    }
    if let Some(next) = &answer.next_page {
        eprintln!("More entries: repeat with --pagination-token {next} (or use --all-pages).");
    }
    Ok(())
}

/// A listing request whose answers come in pages.
trait Paged: serde::Serialize {
    type Answer: serde::de::DeserializeOwned + serde::Serialize;
    fn continue_at(&mut self, token: String);
    fn next_page(answer: &mut Self::Answer) -> Option<String>;
    fn append(answer: &mut Self::Answer, later: Self::Answer);
}

impl Paged for ListSraSessions {
    type Answer = ListSraSessionsOutput;
    fn continue_at(&mut self, token: String) {
        self.pagination_token = Some(token);
    }
    fn next_page(answer: &mut Self::Answer) -> Option<String> {
        answer.next_page.take()
    }
    fn append(answer: &mut Self::Answer, later: Self::Answer) {
        answer.sessions.extend(later.sessions);
        answer.next_page = later.next_page;
    }
}

impl Paged for ListSraAudit {
    type Answer = ListSraAuditOutput;
    fn continue_at(&mut self, token: String) {
        self.pagination_token = Some(token);
    }
    fn next_page(answer: &mut Self::Answer) -> Option<String> {
        answer.next_page.take()
    }
    fn append(answer: &mut Self::Answer, later: Self::Answer) {
        answer.entries.extend(later.entries);
        answer.next_page = later.next_page;
    }
}

/// Asks for a listing; with `all_pages`, follows its pages to the end into one answer. With `json` the answer is
/// printed — one page as the server sent it, all pages merged — and `None` comes back: nothing is left to show.
fn listing<R: Paged>(
    client: &Client,
    path: &str,
    request: &mut R,
    all_pages: bool,
    json: bool,
) -> Result<Option<R::Answer>, CliError> {
    let first = client.post::<_, R::Answer>(path, &*request)?;
    if json && !all_pages {
        emit(&format!("{}\n", first.text.trim_end()))?;
        return Ok(None);
    }
    let mut answer = first.value;
    if all_pages {
        while let Some(next) = R::next_page(&mut answer) {
            request.continue_at(next);
            let page = client.post::<_, R::Answer>(path, &*request)?.value;
            R::append(&mut answer, page);
        }
    }
    if json {
        emit(&format!("{}\n", serde_json::to_string(&answer).expect("an answer always serializes")))?;
        return Ok(None);
    }
    Ok(Some(answer))
}

fn audit_table(entries: &[sra_api::AuditEntry], with_session: bool) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let mut row = vec![format_rfc3339(e.time), e.actor.clone(), e.action.clone()];
            if with_session {
                row.push(e.session_id.clone().unwrap_or_else(|| "-".into()));
            }
            // In words; `--json` has the raw details.
            row.push(if e.summary.is_empty() { e.details.to_string() } else { e.summary.clone() });
            row
        })
        .collect();
    if with_session {
        table::render(&["TIME", "ACTOR", "ACTION", "SESSION ID", "WHAT HAPPENED"], &rows, terminal_width(), &[4, 1])
    } else {
        table::render(&["TIME", "ACTOR", "ACTION", "WHAT HAPPENED"], &rows, terminal_width(), &[3, 1])
    }
}

fn terminate(cli: &Cli, args: &TerminateArgs) -> Result<(), CliError> {
    // Named here, with the rule, before anything is sent.
    if let Some(reason) = &args.reason {
        sra_domain::TerminationReason::parse(reason).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    if let Some(block) = &args.block_for {
        sra_domain::BlockFor::parse(block).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    let saved = profile::load(&cli.profile)?;
    let client = client(cli, &saved)?;
    let token = Some(token(cli, &saved)?);
    if let ([session_id], false) = (args.session_ids.as_slice(), args.dry_run) {
        let request = TerminateSraSession {
            token,
            session_id: Some(session_id.clone()),
            reason: args.reason.clone(),
            block_for: args.block_for.clone(),
        };
        let answer = client.post::<_, TerminateSraSessionOutput>("/terminate-sra-session", &request)?;
        if args.json {
            return emit(&format!("{}\n", answer.text.trim_end()));
        }
        let when = format_rfc3339(answer.value.requested_at);
        let id = &answer.value.session_id;
        let mut text = if answer.value.repeated {
            format!("Termination of {id} was already requested at {when}; waiting for its gateway.\n")
        } else {
            format!("Termination of {id} requested at {when}; its gateway ends it at its next heartbeat.\n")
        };
        for b in &answer.value.blocked {
            let until = format_rfc3339(b.until);
            text.push_str(&format!(
                "{} may open no new session on {} until {until}.\n",
                b.user_identifier, b.cluster_name
            ));
        }
        return emit(&text);
    }
    let request = TerminateSraSessions {
        token,
        session_ids: (!args.session_ids.is_empty()).then(|| args.session_ids.clone()),
        user: args.user.clone(),
        gateway: args.gateway.clone(),
        reason: args.reason.clone(),
        block_for: args.block_for.clone(),
        dry_run: args.dry_run,
    };
    let answer = client.post::<_, TerminateSraSessionsOutput>("/terminate-sra-sessions", &request)?;
    if args.json {
        return emit(&format!("{}\n", answer.text.trim_end()));
    }
    emit(&terminations_text(&answer.value))
}

/// A bulk termination's answer for people: what was (or would be) requested, then what was skipped and why.
fn terminations_text(answer: &TerminateSraSessionsOutput) -> String {
    let count = |n: usize| if n == 1 { "1 session".to_owned() } else { format!("{n} sessions") };
    let mut text = match (answer.dry_run, answer.requested.len()) {
        (true, n) => format!("Would request termination of {}.\n", count(n)),
        (false, n) => {
            format!("Termination requested for {}; each gateway ends them at its next heartbeat.\n", count(n))
        }
    };
    if !answer.requested.is_empty() {
        let rows: Vec<Vec<String>> = answer
            .requested
            .iter()
            .map(|t| {
                let when = if t.repeated { "already requested" } else { "now" };
                vec![t.session_id.clone(), t.user_identifier.clone(), t.cluster_name.clone(), when.to_owned()]
            })
            .collect();
        text.push_str(&table::render(&["SESSION ID", "USER", "GATEWAY", "REQUESTED"], &rows, terminal_width(), &[]));
    }
    for b in &answer.blocked {
        let verb = if answer.dry_run { "would be blocked" } else { "blocked" };
        let until = format_rfc3339(b.until);
        text.push_str(&format!(
            "{} {verb} from new sessions on {} until {until}.\n",
            b.user_identifier, b.cluster_name
        ));
    }
    if !answer.skipped.is_empty() {
        text.push_str(&format!("Skipped {}:\n", count(answer.skipped.len())));
        let rows: Vec<Vec<String>> =
            answer.skipped.iter().map(|s| vec![s.session_id.clone(), s.message.clone()]).collect();
        text.push_str(&table::render(&["SESSION ID", "WHY"], &rows, terminal_width(), &[1]));
    }
    text
}

fn blocks(cli: &Cli, args: &BlocksArgs) -> Result<(), CliError> {
    let saved = profile::load(&cli.profile)?;
    let client = client(cli, &saved)?;
    let token = Some(token(cli, &saved)?);
    if let Some(id) = args.lift {
        let answer = client.post::<_, BlockEntry>("/lift-sra-block", &LiftSraBlock { token, id: Some(id) })?;
        if args.json {
            return emit(&format!("{}\n", answer.text.trim_end()));
        }
        let b = answer.value;
        return emit(&format!("Lifted: {} may open sessions on {} again.\n", b.user_identifier, b.cluster_name));
    }
    let answer = client.post::<_, ListSraBlocksOutput>("/list-sra-blocks", &ListSraBlocks { token })?;
    if args.json {
        return emit(&format!("{}\n", answer.text.trim_end()));
    }
    if answer.value.blocks.is_empty() {
        return emit("No live blocks.\n");
    }
    let rows: Vec<Vec<String>> = answer
        .value
        .blocks
        .iter()
        .map(|b| {
            vec![
                b.id.to_string(),
                b.user_identifier.clone(),
                b.cluster_name.clone(),
                format_rfc3339(b.until),
                b.blocked_by.clone(),
                b.reason.clone(),
            ]
        })
        .collect();
    emit(&table::render(&["ID", "USER", "GATEWAY", "UNTIL", "BY", "REASON"], &rows, terminal_width(), &[5]))
}

/// A time flag: RFC 3339, or a time ago such as `90m`, `24h`, `7d`, `2w`.
fn time_flag(flag: &str, value: &str, now: Millis) -> Result<Millis, CliError> {
    let ago = |digits: &str, unit: Millis| digits.parse::<i64>().ok().and_then(|n| n.checked_mul(unit));
    let v = value.trim();
    let relative = v.char_indices().last().and_then(|(i, unit)| {
        let digits = &v[..i];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match unit {
            's' => ago(digits, sra_domain::SECOND_MS),
            'm' => ago(digits, sra_domain::MINUTE_MS),
            'h' => ago(digits, sra_domain::HOUR_MS),
            'd' => ago(digits, sra_domain::DAY_MS),
            'w' => ago(digits, 7 * sra_domain::DAY_MS),
            _ => None,
        }
    });
    match relative {
        Some(ms) => Ok(now - ms),
        None => {
            parse_rfc3339(v).map_err(|e| CliError::Usage(format!("{flag}: {e}, or a time ago such as 90m, 24h, 7d")))
        }
    }
}

fn terminal_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<usize>().ok()).filter(|&c| c > 0) {
        return Some(columns);
    }
    // Piped output is not cut: scripts get whole values.
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0))
}

/// Writes to stdout; a closed pipe (`sra … | head`) ends quietly.
fn emit(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Local(format!("cannot write the output: {e}"))),
    }
}

fn now_ms() -> Millis {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Millis::try_from(since.as_millis()).unwrap_or(Millis::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_flags_take_rfc3339_or_a_time_ago() {
        let now = 10 * sra_domain::DAY_MS;
        assert_eq!(time_flag("--from", "24h", now).unwrap(), 9 * sra_domain::DAY_MS);
        assert_eq!(time_flag("--from", "1w", now).unwrap(), 3 * sra_domain::DAY_MS);
        assert_eq!(time_flag("--from", "1970-01-02", now).unwrap(), sra_domain::DAY_MS);
        let err = time_flag("--to", "soon", now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--to: invalid time \"soon\"; expected RFC 3339, e.g. 2026-11-28T09:30:00Z or 2026-11-28, or a time ago \
             such as 90m, 24h, 7d"
        );
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn secrets_and_tokens_may_start_with_a_hyphen() {
        let cli = Cli::try_parse_from(["sra", "auth", "--access-id", "p-1", "--access-key", "-Ezq"]).unwrap();
        let Command::Auth(args) = cli.command else { panic!("auth") };
        assert_eq!(args.access_key.as_deref(), Some("-Ezq"));
        let cli = Cli::try_parse_from(["sra", "list-sra-sessions", "--pagination-token", "-x.y"]).unwrap();
        let Command::ListSraSessions(args) = cli.command else { panic!("list") };
        assert_eq!(args.pagination_token.as_deref(), Some("-x.y"));
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Fuzzing the flag values a user (or a script) passes: each is parsed or refused with a usage error naming it,
    /// never a panic. `SRA_FUZZ_CASES` sets the number of cases (default 300).
    #[test]
    fn any_flag_value_is_parsed_or_named() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        const FLAGS: &[&str] = &[
            "--status-type",
            "--resource-type",
            "--client-interface",
            "--gateway",
            "--search",
            "--from",
            "--to",
            "--sort",
            "--page-size",
            "--pagination-token",
        ];
        let value = prop_oneof![
            3 => "\\PC{0,20}",
            2 => any::<String>(),
            2 => prop::sample::select(&["24h", "90m", "7d", "2w", "0h", "-1h", "99999999999d", "2026-11-28", "failed,ssh", "user:up", "-duration", "0", "501", ""][..]).prop_map(str::to_owned),
        ];
        let args = prop::collection::vec((prop::sample::select(FLAGS), value), 0..8);
        let cases = std::env::var("SRA_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
        TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
            .run(&args, |args| {
                let mut argv = vec!["sra".to_owned(), "list-sra-sessions".to_owned()];
                for (flag, value) in args {
                    argv.push(format!("{flag}={value}"));
                }
                if let Ok(Cli { command: Command::ListSraSessions(list), .. }) = Cli::try_parse_from(&argv) {
                    if let Err(e) = checked(&list, 10 * sra_domain::DAY_MS) {
                        prop_assert_eq!(e.exit_code(), 2, "{}", e);
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}
