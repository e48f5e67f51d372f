//! Realistic session traffic as gateway reports: a history of ended sessions over the past days, and live sessions
//! that start, connect and end as time goes by. Update IDs are `SESSION:STATUS`, so a report sent again (after a lost
//! answer) is recognised by the server as the same update.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sra_api::SessionReport;
use sra_domain::{ClientInterface, Millis, ResourceType, SessionStatus, DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS};

/// Why sessions fail while connecting.
const FAILURES: [&str; 4] = [
    "authentication failed: invalid credentials",
    "target unreachable: connection timed out",
    "secret expired",
    "access denied by policy",
];

/// The sessions a simulated gateway is carrying.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub connecting: Vec<String>,
    pub connected: Vec<String>,
}

impl Live {
    pub fn ids(&self) -> Vec<String> {
        self.connecting.iter().chain(&self.connected).cloned().collect()
    }

    fn len(&self) -> usize {
        self.connecting.len() + self.connected.len()
    }

    /// Forgets a session (it ended); whether it was live.
    fn remove(&mut self, id: &str) -> bool {
        let before = self.len();
        self.connecting.retain(|s| s != id);
        self.connected.retain(|s| s != id);
        before != self.len()
    }
}

/// Generates traffic for a set of gateways and users.
pub struct Traffic {
    rng: StdRng,
    gateways: Vec<String>,
    users: Vec<String>,
    /// Per gateway, in the order of `gateways`.
    pub live: Vec<Live>,
    /// Per gateway: users an administrator blocked from new sessions there, until when (as the last heartbeat said).
    blocked: Vec<Vec<(String, Millis)>>,
}

/// One report for one gateway (an index into the gateways).
pub type Report = (usize, SessionReport);

impl Traffic {
    /// `seed` makes the traffic repeatable (the demo's data is the same on every start).
    pub fn new(gateways: &[&str], users: &[&str], seed: u64) -> Traffic {
        assert!(!gateways.is_empty() && !users.is_empty(), "traffic needs gateways and users");
        Traffic {
            rng: StdRng::seed_from_u64(seed),
            gateways: gateways.iter().map(|g| (*g).to_owned()).collect(),
            users: users.iter().map(|u| (*u).to_owned()).collect(),
            live: vec![Live::default(); gateways.len()],
            blocked: vec![Vec::new(); gateways.len()],
        }
    }

    pub fn gateways(&self) -> &[String] {
        &self.gateways
    }

    /// `count` sessions started over the last 30 days before `now`, of which the first `active` are still live (a few
    /// connecting, most connected). The first ones walk through every resource type and client interface so all of
    /// them appear. Returned per gateway, each in the order to report.
    pub fn history(&mut self, count: usize, active: usize, now: Millis) -> Vec<Vec<SessionReport>> {
        let mut by_gateway: Vec<Vec<SessionReport>> = vec![Vec::new(); self.gateways.len()];
        let n_gateways = self.gateways.len();
        for i in 0..count {
            let gateway = i % n_gateways;
            let still_active = i < active;
            let (resource, client) = if i < n_gateways * ResourceType::ALL.len() {
                (
                    ResourceType::ALL[(i / n_gateways) % ResourceType::ALL.len()],
                    ClientInterface::ALL[(i / 16) % ClientInterface::ALL.len()],
                )
            } else {
                (*self.pick(ResourceType::ALL), *self.pick(ClientInterface::ALL))
            };
            let start = if still_active {
                now - self.rng.gen_range(10 * SECOND_MS..6 * HOUR_MS)
            } else {
                now - self.rng.gen_range(5 * MINUTE_MS..30 * DAY_MS)
            };
            let session_id = self.session_id();
            let started = self.started(&session_id, start, resource, client);
            let reports = &mut by_gateway[gateway];
            reports.push(started);
            let connect_at = start + self.rng.gen_range(300..4_000);
            if still_active {
                // A few stay "connecting" so that status is on screen too.
                if i % 6 == 0 {
                    self.live[gateway].connecting.push(session_id);
                } else {
                    reports.push(change(&session_id, SessionStatus::Connected, connect_at, None));
                    self.live[gateway].connected.push(session_id);
                }
                continue;
            }
            let roll = self.rng.gen_range(0..100);
            if roll < 8 {
                let error = self.pick(&FAILURES).to_string();
                reports.push(change(&session_id, SessionStatus::Failed, connect_at, Some(error)));
                continue;
            }
            reports.push(change(&session_id, SessionStatus::Connected, connect_at, None));
            let end = (connect_at + self.session_length()).min(now - SECOND_MS).max(connect_at + 1);
            let report = match roll {
                8..=13 => change(&session_id, SessionStatus::Terminated, end, None),
                14..=16 => change(&session_id, SessionStatus::Failed, end, Some("connection to target lost".into())),
                _ => change(&session_id, SessionStatus::Completed, end, None),
            };
            reports.push(report);
        }
        by_gateway
    }

    /// The users blocked on a gateway, as its heartbeat answer lists them (replacing the earlier list: a lifted block
    /// is simply no longer there).
    pub fn block(&mut self, gateway: usize, blocked: Vec<(String, Millis)>) {
        self.blocked[gateway] = blocked;
    }

    /// The users who may open a session on `gateway` at `now`.
    fn allowed(&self, gateway: usize, now: Millis) -> Vec<usize> {
        let blocked = &self.blocked[gateway];
        (0..self.users.len())
            .filter(|&u| !blocked.iter().any(|(user, until)| *user == self.users[u] && *until > now))
            .collect()
    }

    /// The next thing that happens at `now`: a session starts, one connects, or one ends. Keeps at least `floor`
    /// sessions live. A blocked user opens no session on the gateway that blocks them; `None` when nothing can happen
    /// (every user blocked everywhere and nothing live).
    pub fn step(&mut self, now: Millis, floor: usize) -> Option<Report> {
        let total: usize = self.live.iter().map(Live::len).sum();
        let connecting: usize = self.live.iter().map(|l| l.connecting.len()).sum();
        let connected = total - connecting;
        let open: Vec<(usize, Vec<usize>)> = (0..self.gateways.len())
            .map(|g| (g, self.allowed(g, now)))
            .filter(|(_, users)| !users.is_empty())
            .collect();
        if total == 0 && open.is_empty() {
            return None;
        }
        if !open.is_empty() && (total < floor || total == 0 || self.rng.gen_range(0..3) == 0) {
            let (gateway, users) = open[self.rng.gen_range(0..open.len())].clone();
            let user = self.users[users[self.rng.gen_range(0..users.len())]].clone();
            let resource = *self.pick(ResourceType::ALL);
            let client = *self.pick(ClientInterface::ALL);
            let id = self.session_id();
            let mut report = self.started(&id, now, resource, client);
            report.user = Some(user);
            self.live[gateway].connecting.push(id);
            Some((gateway, report))
        } else if connecting > 0 && (connected == 0 || self.rng.gen_bool(0.5)) {
            let (gateway, index) = self.nth(connecting, |l| &l.connecting);
            let id = self.live[gateway].connecting.swap_remove(index);
            self.live[gateway].connected.push(id.clone());
            Some((gateway, change(&id, SessionStatus::Connected, now, None)))
        } else {
            let (gateway, index) = self.nth(connected, |l| &l.connected);
            let id = self.live[gateway].connected.swap_remove(index);
            let report = match self.rng.gen_range(0..10) {
                0 => change(&id, SessionStatus::Terminated, now, None),
                1 => change(&id, SessionStatus::Failed, now, Some("connection to target lost".into())),
                _ => change(&id, SessionStatus::Completed, now, None),
            };
            Some((gateway, report))
        }
    }

    /// The report that a session ended by request; `None` if the gateway is not carrying it.
    pub fn terminate(&mut self, gateway: usize, session_id: &str, now: Millis) -> Option<SessionReport> {
        self.live[gateway].remove(session_id).then(|| change(session_id, SessionStatus::Terminated, now, None))
    }

    /// Forgets sessions the server considers ended (e.g. closed as lost while the gateway was away).
    pub fn forget(&mut self, gateway: usize, session_ids: &[String]) {
        for id in session_ids {
            self.live[gateway].remove(id);
        }
    }

    /// The `n`-th (random) session of one kind across gateways: (gateway, index in its list).
    fn nth(&mut self, of: usize, list: impl Fn(&Live) -> &Vec<String>) -> (usize, usize) {
        let mut n = self.rng.gen_range(0..of);
        for (gateway, live) in self.live.iter().enumerate() {
            let len = list(live).len();
            if n < len {
                return (gateway, n);
            }
            n -= len;
        }
        unreachable!("n < the total count")
    }

    fn started(&mut self, id: &str, at: Millis, resource: ResourceType, client: ClientInterface) -> SessionReport {
        let user = self.users[self.rng.gen_range(0..self.users.len())].clone();
        let (target, host) = self.target(resource);
        let environment = *self.pick(&["prod", "staging", "dev"]);
        SessionReport {
            update_id: format!("{id}:connecting"),
            session_id: id.to_owned(),
            status: SessionStatus::Connecting,
            at,
            user: Some(user),
            client_interface: Some(client),
            resource_type: Some(resource),
            secret_name: Some(format!("/{environment}/{}/{target}", resource.connection_type())),
            target_name: Some(target),
            target_host: Some(host),
            access_id: Some(format!("p-{:012x}", self.rng.gen::<u64>() & 0xffff_ffff_ffff)),
            error: None,
        }
    }

    fn target(&mut self, resource: ResourceType) -> (String, String) {
        use ResourceType::*;
        let rng = &mut self.rng;
        let n = rng.gen_range(1..20);
        let ip = format!("10.{}.{}.{}", rng.gen_range(0..8), rng.gen_range(0..255), rng.gen_range(2..254));
        match resource {
            Ssh => (format!("web-{n:02}"), format!("{ip}:22")),
            Rdp => (format!("win-jump-{n:02}"), format!("{ip}:3389")),
            Mysql => (format!("orders-mysql-{n}"), format!("{ip}:3306")),
            Postgres => (format!("billing-pg-{n}"), format!("{ip}:5432")),
            Mssql => (format!("erp-mssql-{n}"), format!("{ip}:1433")),
            Mongodb => (format!("catalog-mongo-{n}"), format!("{ip}:27017")),
            Oracle => (format!("ledger-ora-{n}"), format!("{ip}:1521")),
            Redis => (format!("cache-redis-{n}"), format!("{ip}:6379")),
            K8s => (format!("k8s-core-{n}"), format!("https://{ip}:6443")),
            Eks => (format!("eks-prod-{n}"), format!("https://eks-{n}.us-east-1.eks.amazonaws.com")),
            Gke => (format!("gke-analytics-{n}"), format!("https://{ip}")),
            Aks => (format!("aks-apps-{n}"), format!("https://aks-{n}.hcp.westeurope.azmk8s.io")),
            Aws => (format!("aws-account-{n}"), "https://console.aws.amazon.com".to_owned()),
            Azure => (format!("azure-sub-{n}"), "https://portal.azure.com".to_owned()),
            Gcp => (format!("gcp-project-{n}"), "https://console.cloud.google.com".to_owned()),
            Web => (format!("grafana-{n}"), format!("https://{ip}:3000")),
        }
    }

    /// Most sessions are short; a few last hours.
    fn session_length(&mut self) -> Millis {
        match self.rng.gen_range(0..10) {
            0..=4 => self.rng.gen_range(20 * SECOND_MS..15 * MINUTE_MS),
            5..=8 => self.rng.gen_range(15 * MINUTE_MS..2 * HOUR_MS),
            _ => self.rng.gen_range(2 * HOUR_MS..10 * HOUR_MS),
        }
    }

    /// An SRA session ID in the UUID layout gateways use.
    fn session_id(&mut self) -> String {
        let a: u128 = self.rng.gen();
        let hex = format!("{a:032x}");
        format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.gen_range(0..items.len())]
    }
}

/// A status report for a known session.
pub fn change(session_id: &str, status: SessionStatus, at: Millis, error: Option<String>) -> SessionReport {
    SessionReport {
        update_id: format!("{session_id}:{status}"),
        session_id: session_id.to_owned(),
        status,
        at,
        user: None,
        client_interface: None,
        resource_type: None,
        secret_name: None,
        target_name: None,
        target_host: None,
        access_id: None,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_repeatable_and_every_report_is_valid() {
        let now = 1_795_824_000_000;
        let mut a = Traffic::new(&["gw-a", "gw-b"], &["alice", "bob"], 7);
        let mut b = Traffic::new(&["gw-a", "gw-b"], &["alice", "bob"], 7);
        let history = a.history(200, 10, now);
        assert_eq!(history, b.history(200, 10, now));
        let live: usize = a.live.iter().map(Live::len).sum();
        assert_eq!(live, 10);
        for (gateway, reports) in history.iter().enumerate() {
            for (i, report) in reports.iter().enumerate() {
                report.to_update(&format!("[{i}]"), a.gateways()[gateway].as_str(), now).unwrap();
            }
        }
        // Every resource type shows up.
        let types: std::collections::BTreeSet<_> = history.iter().flatten().filter_map(|r| r.resource_type).collect();
        assert_eq!(types.len(), ResourceType::ALL.len());
    }

    #[test]
    fn steps_keep_sessions_moving_through_the_state_machine() {
        let mut traffic = Traffic::new(&["gw-a"], &["alice"], 1);
        let mut status = std::collections::HashMap::new();
        for t in 0..500 {
            let (_, report) = traffic.step(t, 5).unwrap();
            let before = status.insert(report.session_id.clone(), report.status);
            match before {
                None => assert_eq!(report.status, SessionStatus::Connecting),
                Some(previous) => assert!(previous.can_become(report.status), "{previous} → {}", report.status),
            }
        }
        assert!(traffic.live[0].len() >= 4, "a floor of live sessions is kept");
    }

    #[test]
    fn a_blocked_user_opens_no_session_on_that_gateway_until_the_block_ends() {
        let mut traffic = Traffic::new(&["gw-a", "gw-b"], &["alice", "bob"], 3);
        traffic.block(0, vec![("alice".to_owned(), 1_000)]);
        let mut starts = std::collections::BTreeSet::new();
        for t in 0..2_000 {
            let (gateway, report) = traffic.step(t, 20).unwrap();
            if report.status == SessionStatus::Connecting {
                let user = report.user.clone().unwrap();
                assert!(!(gateway == 0 && user == "alice" && t < 1_000), "alice started on gw-a at {t}, while blocked");
                starts.insert((gateway, user, t >= 1_000));
            }
        }
        // Elsewhere and afterwards she is not held back.
        assert!(starts.contains(&(1, "alice".to_owned(), false)));
        assert!(starts.contains(&(0, "alice".to_owned(), true)));
        // Nobody may start anywhere and nothing is live: nothing happens, rather than a start that breaks a block.
        let mut stuck = Traffic::new(&["gw-a"], &["alice"], 1);
        stuck.block(0, vec![("alice".to_owned(), 10)]);
        assert_eq!(stuck.step(0, 5), None);
    }
}
