//! What changed in the view since its page was read — pushed by the server's event stream, or asked for by the
//! fallback refresh — laid over that page: rows on screen change in place, rows that left the view stay where they are
//! (marked), and new sessions that belong above the first row are counted behind an "N new sessions" control instead
//! of pushing the rows down under the reader's pointer. A new page (another view, Refresh, "show new") starts over.
//! A pure state step, unit-tested here; `stream` (browser only) feeds it.

use std::collections::{HashMap, HashSet};

use sra_domain::{SessionChanges, SessionSummary, SessionsPage, SortDirection, SortField, ViewChanges};

use super::shown::row_state;

/// The changes laid over the page on screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Live {
    /// The page's changes token, then each answer's: where the next changes are asked from.
    pub token: Option<String>,
    /// Rows on screen as they are now.
    pub updated: HashMap<String, SessionSummary>,
    /// Rows on screen that are no longer in the view.
    pub gone: HashSet<String>,
    /// Sessions new to the view that belong above the page's first row.
    pub fresh: HashSet<String>,
    /// Rows whose state changed since the page was read (highlighted).
    pub changed: HashSet<String>,
}

/// What the changes call for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Nothing the caller may see changed.
    Unchanged,
    /// Sessions of the view changed (on screen or not): the counts may have too.
    Applied,
    /// The view must be read again (the server could not say what changed).
    ReadAgain,
}

impl Live {
    /// The state for a page just read.
    pub fn for_page(page: &SessionsPage) -> Live {
        Live { token: page.changes_token.clone(), ..Live::default() }
    }

    /// Lays `changes` over `page`, which is the first page of a view ordered newest first when `newest_first`.
    pub fn apply(&mut self, page: &SessionsPage, newest_first: bool, changes: SessionChanges) -> Outcome {
        self.token = Some(changes.token);
        let (sessions, removed) = match changes.changes {
            ViewChanges::Unchanged => return Outcome::Unchanged,
            ViewChanges::Reset => return Outcome::ReadAgain,
            ViewChanges::Changed { sessions, removed } => (sessions, removed),
        };
        let on_screen: HashMap<&str, &SessionSummary> =
            page.sessions.iter().map(|s| (s.session_id.as_str(), s)).collect();
        // The first row's start: a new session that started at or after it belongs above it.
        let top = page.sessions.first().map(|s| (s.started_at, s.session_id.clone()));
        for session in sessions {
            let id = session.session_id.clone();
            if let Some(read) = on_screen.get(id.as_str()) {
                self.gone.remove(&id);
                // A row is marked when what it shows differs from the page as read (a repeated request does not).
                if row_state(read) != row_state(&session) {
                    self.changed.insert(id.clone());
                }
                self.updated.insert(id, session);
            } else if newest_first && top.as_ref().is_none_or(|top| (session.started_at, id.clone()) > *top) {
                self.fresh.insert(id);
            }
        }
        for id in removed {
            self.fresh.remove(&id);
            if on_screen.contains_key(id.as_str()) && self.gone.insert(id.clone()) {
                self.changed.insert(id);
            }
        }
        Outcome::Applied
    }

    /// The page's rows as they are now.
    pub fn rows(&self, page: &SessionsPage) -> Vec<SessionSummary> {
        page.sessions.iter().map(|s| self.updated.get(&s.session_id).unwrap_or(s).clone()).collect()
    }
}

/// Whether new sessions of a view would show above its first row: the first page, newest first.
pub(super) fn newest_first(sort: Option<&str>, cursor: Option<&str>) -> bool {
    let sort = sort.and_then(|s| s.parse::<sra_domain::Sort>().ok()).unwrap_or_default();
    cursor.is_none_or(str::is_empty) && sort.field == SortField::StartTime && sort.direction == SortDirection::Desc
}

#[cfg(test)]
mod tests {
    use super::*;
    use sra_domain::SessionStatus;

    fn session(id: &str, started_at: i64, status: SessionStatus) -> SessionSummary {
        crate::pages::sessions::shown::sample(id, started_at, status)
    }

    fn page() -> SessionsPage {
        SessionsPage {
            sessions: vec![session("b", 20, SessionStatus::Connected), session("a", 10, SessionStatus::Connecting)],
            next_cursor: None,
            prev_cursor: None,
            as_of: 30,
            changes_token: Some("t0".to_owned()),
        }
    }

    fn changed(token: &str, sessions: Vec<SessionSummary>, removed: &[&str]) -> SessionChanges {
        let removed = removed.iter().map(|r| (*r).to_owned()).collect();
        SessionChanges { token: token.to_owned(), changes: ViewChanges::Changed { sessions, removed } }
    }

    #[test]
    fn rows_on_screen_change_in_place_and_new_ones_wait_above() {
        let page = page();
        let mut live = Live::for_page(&page);
        assert_eq!(live.token.as_deref(), Some("t0"));
        let a_connected = session("a", 10, SessionStatus::Connected);
        let outcome = live.apply(
            &page,
            true,
            changed("t1", vec![session("c", 25, SessionStatus::Connecting), a_connected.clone()], &["b"]),
        );
        assert_eq!(outcome, Outcome::Applied);
        assert_eq!(live.token.as_deref(), Some("t1"));
        // The rows keep their places: b is marked as gone, a shows its new status, c waits behind the control.
        let rows = live.rows(&page);
        assert_eq!(rows.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(rows[1].status, SessionStatus::Connected);
        assert_eq!(live.gone, HashSet::from(["b".to_owned()]));
        assert_eq!(live.fresh, HashSet::from(["c".to_owned()]));
        assert_eq!(live.changed, HashSet::from(["a".to_owned(), "b".to_owned()]));
        // Marks accumulate until the view is read again; the same state again marks nothing more.
        live.apply(&page, true, changed("t2", vec![session("b", 20, SessionStatus::Connected)], &[]));
        assert_eq!(live.gone, HashSet::new(), "back in the view");
        let mut live = Live::for_page(&page);
        live.apply(&page, true, changed("t3", vec![session("a", 10, SessionStatus::Connecting)], &[]));
        assert!(live.changed.is_empty(), "{:?}", live.changed);
    }

    #[test]
    fn a_session_that_started_earlier_or_another_order_is_not_new_above() {
        let page = page();
        let mut live = Live::for_page(&page);
        live.apply(&page, true, changed("t1", vec![session("old", 5, SessionStatus::Connecting)], &[]));
        assert!(live.fresh.is_empty(), "it belongs further down, on another page");
        live.apply(&page, false, changed("t2", vec![session("c", 25, SessionStatus::Connecting)], &[]));
        assert!(live.fresh.is_empty(), "sorted otherwise, where it belongs is unknown here");
        // A new one that then leaves the view is no longer counted.
        live.apply(&page, true, changed("t3", vec![session("d", 26, SessionStatus::Connecting)], &[]));
        live.apply(&page, true, changed("t4", vec![], &["d"]));
        assert!(live.fresh.is_empty());
    }

    #[test]
    fn unchanged_and_reset() {
        let page = page();
        let mut live = Live::for_page(&page);
        let unchanged = SessionChanges { token: "t1".to_owned(), changes: ViewChanges::Unchanged };
        assert_eq!(live.apply(&page, true, unchanged), Outcome::Unchanged);
        assert_eq!(live.token.as_deref(), Some("t1"));
        let reset = SessionChanges { token: "t2".to_owned(), changes: ViewChanges::Reset };
        assert_eq!(live.apply(&page, true, reset), Outcome::ReadAgain);
        // Removals of sessions not on screen change no row.
        assert_eq!(live.apply(&page, true, changed("t3", vec![], &["zzz"])), Outcome::Applied);
        assert_eq!((live.rows(&page), live.gone.is_empty()), (page.sessions.clone(), true));
    }

    #[test]
    fn only_the_first_page_newest_first_shows_new_sessions_above() {
        assert!(newest_first(None, None));
        assert!(newest_first(Some("start_time:desc"), Some("")));
        assert!(!newest_first(Some("start_time:asc"), None));
        assert!(!newest_first(Some("-duration"), None));
        assert!(!newest_first(None, Some("c")));
    }
}
