//! `sra-gateway-sim`: simulated SRA gateways reporting realistic session traffic to a server's ingest API.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use sra_simulator::{run, GatewayClient, Pace, Traffic};

#[derive(Debug, Parser)]
#[command(
    name = "sra-gateway-sim",
    version,
    about = "Simulated SRA gateways: report a history of sessions, then live traffic and heartbeats, through the \
             gateway ingest API.",
    after_help = "Example:\n  \
                  sra-server admin gateway key gw-eu-1          # prints g-…\n  \
                  sra-gateway-sim --url http://127.0.0.1:3000 --gateway gw-eu-1=g-… --history 500 --duration 10m"
)]
struct Args {
    /// The SRA Sessions server.
    #[arg(long, env = "SRA_URL")]
    url: String,
    /// A gateway to simulate, as NAME=KEY (its key from `sra-server admin gateway key NAME`); repeat for more.
    #[arg(long = "gateway", value_name = "NAME=KEY", required = true, value_parser = parse_gateway)]
    gateways: Vec<(String, String)>,
    /// Users who open sessions (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "alice,bob,carol,dave,erin,svc-deploy")]
    users: Vec<String>,
    /// Ended sessions to report first, spread over the last 30 days.
    #[arg(long, default_value_t = 0)]
    history: usize,
    /// Seconds between two changes.
    #[arg(long, default_value_t = 2.0)]
    interval: f64,
    /// Seconds between heartbeats.
    #[arg(long, default_value_t = 15.0)]
    heartbeat: f64,
    /// Live sessions to keep at least.
    #[arg(long, default_value_t = 10)]
    floor: usize,
    /// Seed for repeatable traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    duration: Option<f64>,
}

fn parse_gateway(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, key)) if !name.is_empty() && key.starts_with("g-") => Ok((name.to_owned(), key.to_owned())),
        _ => Err(format!("invalid gateway {text:?}; expected NAME=KEY with a g-… key")),
    }
}

fn seconds(value: f64, flag: &str) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or_else(|_| {
        eprintln!("error: {flag} must be a non-negative number of seconds, not {value}");
        std::process::exit(2);
    })
}

fn main() {
    let args = Args::parse();
    let names: Vec<&str> = args.gateways.iter().map(|(n, _)| n.as_str()).collect();
    let users: Vec<&str> = args.users.iter().map(String::as_str).collect();
    if users.is_empty() {
        eprintln!("error: --users lists nobody");
        std::process::exit(2);
    }
    let clients: Vec<GatewayClient> = args.gateways.iter().map(|(_, key)| GatewayClient::new(&args.url, key)).collect();
    let mut traffic = Traffic::new(&names, &users, args.seed);
    let history = traffic.history(args.history, 0, sra_simulator::now_ms());
    for ((client, reports), name) in clients.iter().zip(&history).zip(&names) {
        match client.report(reports) {
            Ok(answer) => eprintln!("{name}: reported {} history updates", answer.results.len()),
            Err(e) => {
                eprintln!("error: {name}: {e}");
                std::process::exit(1);
            }
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    if let Some(duration) = args.duration {
        let stop = stop.clone();
        let duration = seconds(duration, "--duration");
        std::thread::spawn(move || {
            std::thread::sleep(duration);
            stop.store(true, Ordering::Relaxed);
        });
    }
    let pace = Pace {
        between_changes: seconds(args.interval, "--interval"),
        heartbeat_every: seconds(args.heartbeat, "--heartbeat"),
        floor: args.floor,
    };
    run(&clients, &mut traffic, pace, &stop, &|line| eprintln!("{line}"));
}
