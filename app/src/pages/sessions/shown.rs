//! What the grid shows, derived from the listing's latest answer and from what was shown before it: the last good
//! page survives a refresh that cannot reach the server, and a refresh of the same view marks the rows that changed.
//! A pure state step, so server rendering and the browser take the same path and the rules are unit-tested here.

use std::collections::{HashMap, HashSet};

use sra_domain::{RawSessionQuery, SessionSummary, SessionsPage};

use crate::error::{ConsoleError, Failure};

/// The grid's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Shown {
    /// The last good page and when it arrived (browser time; 0 during server rendering).
    pub page: Option<(SessionsPage, i64)>,
    /// Since when the server has not answered (or could not reach its database), while the last good page stays on
    /// screen, and which of the two it is.
    pub stale_since: Option<(i64, Failure)>,
    /// Why there is no page (a bad view, a refused listing).
    pub problem: Option<String>,
    /// Rows that are new or moved since the previous answer for the same view.
    pub changed: HashSet<String>,
    /// The view the page belongs to and each row's state in it, to compare the next answer for that view with.
    seen: Option<(RawSessionQuery, HashMap<String, String>)>,
}

/// What the grid area is showing, coarsely: it changes only when the grid must be built anew, not at every refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Layout {
    Loading,
    Problem(String),
    /// A page without rows.
    Empty,
    Rows,
}

impl Shown {
    /// The state after `answer` (`None`: still loading) for `view`, arriving at `now`.
    /// Returns whether anything a reader of the state sees differs.
    pub fn step(
        previous: Option<Shown>,
        answer: Option<Result<SessionsPage, ConsoleError>>,
        view: Option<RawSessionQuery>,
        now: i64,
    ) -> (Shown, bool) {
        let previous = previous.unwrap_or_default();
        match answer {
            None => (previous, false),
            Some(Ok(page)) => {
                let states: HashMap<String, String> =
                    page.sessions.iter().map(|s| (s.session_id.clone(), row_state(s))).collect();
                let changed = match &previous.seen {
                    Some((was, old)) if Some(was) == view.as_ref() => states
                        .iter()
                        .filter(|(id, state)| old.get(*id) != Some(*state))
                        .map(|(id, _)| id.clone())
                        .collect(),
                    _ => HashSet::new(),
                };
                let next = Shown {
                    page: Some((page, now)),
                    stale_since: None,
                    problem: None,
                    changed,
                    seen: view.map(|view| (view, states)),
                };
                (next, true)
            }
            // Signing in again is the page's business (it navigates); the grid keeps what it has meanwhile.
            Some(Err(e)) if e.kind == Failure::NotSignedIn => (previous, false),
            // The server or its database is out of reach for now: what is on screen stays, marked stale.
            Some(Err(e))
                if matches!(e.kind, Failure::Unreachable | Failure::Unavailable) && previous.page.is_some() =>
            {
                match previous.stale_since {
                    Some((_, kind)) if kind == e.kind => (previous, false),
                    Some((since, _)) => (Shown { stale_since: Some((since, e.kind)), ..previous }, true),
                    None => (Shown { stale_since: Some((now, e.kind)), ..previous }, true),
                }
            }
            Some(Err(e)) => {
                let next = Shown { problem: Some(e.message), ..Shown::default() };
                let differs = next != previous;
                (next, differs)
            }
        }
    }

    /// The view the page on screen belongs to.
    pub fn view(&self) -> Option<&RawSessionQuery> {
        self.seen.as_ref().map(|(view, _)| view)
    }

    pub fn layout(&self) -> Layout {
        match (&self.problem, &self.page) {
            (Some(problem), _) => Layout::Problem(problem.clone()),
            (None, None) => Layout::Loading,
            (None, Some((page, _))) if page.sessions.is_empty() => Layout::Empty,
            (None, Some(_)) => Layout::Rows,
        }
    }
}

/// What a row shows that can change while it is on screen; a refresh highlights rows where it did, and the grid
/// rebuilds exactly those rows (it is part of each row's key).
pub(super) fn row_state(s: &SessionSummary) -> String {
    format!("{}|{:?}|{:?}|{:?}", s.status.as_str(), s.ended_at, s.terminate_requested_at, s.error_message)
}

/// A session for the overview's unit tests.
#[cfg(test)]
pub(super) fn sample(id: &str, started_at: i64, status: sra_domain::SessionStatus) -> SessionSummary {
    use sra_domain::{ClientInterface, GatewayInfo, ResourceType};
    SessionSummary {
        session_id: id.to_owned(),
        user: "olivia".to_owned(),
        access_id: None,
        client_interface: ClientInterface::Cli,
        gateway: GatewayInfo { cluster_name: "gw".to_owned(), cluster_display_name: "GW".to_owned() },
        gateway_id: 1,
        resource_type: ResourceType::Ssh,
        secret_name: "/s".to_owned(),
        target_name: "t".to_owned(),
        target_host: "h".to_owned(),
        status,
        started_at,
        ended_at: None,
        error_message: None,
        updated_at: started_at,
        terminate_requested_at: None,
        terminate_requested_by: None,
        termination_reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sra_domain::SessionStatus;

    fn session(id: &str, status: SessionStatus) -> SessionSummary {
        sample(id, 1, status)
    }

    fn page(sessions: Vec<SessionSummary>) -> Option<Result<SessionsPage, ConsoleError>> {
        Some(Ok(SessionsPage { sessions, next_cursor: None, prev_cursor: None, as_of: 10, changes_token: None }))
    }

    fn failure(kind: Failure) -> Option<Result<SessionsPage, ConsoleError>> {
        Some(Err(ConsoleError::new(kind, "no")))
    }

    fn view(size: u32) -> Option<RawSessionQuery> {
        Some(RawSessionQuery { page_size: Some(size), ..RawSessionQuery::default() })
    }

    #[test]
    fn a_refresh_of_the_same_view_marks_new_and_moved_rows_only() {
        let first = page(vec![session("a", SessionStatus::Connected), session("b", SessionStatus::Connected)]);
        let (shown, _) = Shown::step(None, first, view(10), 100);
        assert!(shown.changed.is_empty(), "the first answer for a view marks nothing");
        let second = page(vec![
            session("c", SessionStatus::Connecting),
            session("a", SessionStatus::Completed),
            session("b", SessionStatus::Connected),
        ]);
        let (shown, differs) = Shown::step(Some(shown), second, view(10), 200);
        assert!(differs);
        assert_eq!(shown.changed, HashSet::from(["a".to_owned(), "c".to_owned()]));
        assert_eq!(shown.page.as_ref().map(|(_, at)| *at), Some(200));
    }

    #[test]
    fn another_view_marks_nothing() {
        let (shown, _) = Shown::step(None, page(vec![session("a", SessionStatus::Connected)]), view(10), 1);
        let (shown, _) = Shown::step(Some(shown), page(vec![session("b", SessionStatus::Failed)]), view(25), 2);
        assert!(shown.changed.is_empty());
    }

    #[test]
    fn an_unreachable_server_keeps_the_last_page_and_says_since_when() {
        let (shown, _) = Shown::step(None, page(vec![session("a", SessionStatus::Connected)]), view(10), 1);
        let (stale, differs) = Shown::step(Some(shown.clone()), failure(Failure::Unreachable), view(10), 5);
        assert!(differs);
        assert_eq!(stale.stale_since, Some((5, Failure::Unreachable)));
        assert_eq!(stale.page, shown.page);
        let (still, differs) = Shown::step(Some(stale), failure(Failure::Unreachable), view(10), 9);
        assert!(!differs, "the banner keeps the first failure's time");
        assert_eq!(still.stale_since, Some((5, Failure::Unreachable)));
        let (database, _) = Shown::step(Some(still.clone()), failure(Failure::Unavailable), view(10), 10);
        assert_eq!(database.stale_since, Some((5, Failure::Unavailable)), "the server answers, its database does not");
        assert_eq!(database.page, shown.page);
        let (back, _) = Shown::step(Some(still), page(vec![session("a", SessionStatus::Connected)]), view(10), 12);
        assert_eq!((back.stale_since, back.layout()), (None, Layout::Rows));
    }

    #[test]
    fn other_failures_replace_the_page_with_the_problem() {
        let (shown, _) = Shown::step(None, failure(Failure::Unreachable), view(10), 1);
        assert_eq!(shown.layout(), Layout::Problem("no".to_owned()), "nothing to keep: the failure is shown");
        let (shown, _) = Shown::step(None, page(vec![session("a", SessionStatus::Connected)]), view(10), 1);
        let (shown, _) = Shown::step(Some(shown), failure(Failure::BadInput), view(10), 2);
        assert_eq!((shown.layout(), shown.page), (Layout::Problem("no".to_owned()), None));
    }

    #[test]
    fn loading_and_a_lapsed_sign_in_leave_the_state_alone() {
        let (shown, _) = Shown::step(None, None, view(10), 1);
        assert_eq!(shown.layout(), Layout::Loading);
        let (shown, _) = Shown::step(Some(shown), page(vec![]), view(10), 1);
        assert_eq!(shown.layout(), Layout::Empty);
        let (after, differs) = Shown::step(Some(shown.clone()), failure(Failure::NotSignedIn), view(10), 2);
        assert!(!differs);
        assert_eq!(after, shown);
    }
}
