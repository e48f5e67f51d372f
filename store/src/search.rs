//! The free-text search: which sessions contain a text in their user, session ID, secret, target name or host.
//!
//! Two ways to find them, chosen per search by how many sessions may match:
//! - **few** (a user's name, a session ID, a host): read just those from the trigram index (see the search-index
//!   migration) and sort them — a rare text never walks the timeframe;
//! - **many** (`ssh`, a common prefix), or a text shorter than a trigram: the listing walks its usual index (or its
//!   slices) and tests each row, which finds a page of a common text after a few rows.
//!
//! How many: SQLite asks its FTS5 table for the candidates, up to a limit, and hands them to the listing, where they are
//! checked with the very `LIKE` condition of the walk, so both ways give the same rows. PostgreSQL's planner estimates
//! it from the `pg_trgm` indexes' statistics; the engine reads that estimate (`EXPLAIN`, no execution) and, for few,
//! leaves one statement to the planner, which then reads the indexes — an Own caller's per-gateway slices would each
//! walk their gateway (measured at a million sessions: 480 ms for a user's name, 31 ms as one statement).

use sea_orm::{ConnectionTrait, DbBackend};

use crate::sql::Sql;
use crate::{Store, StoreError};

/// Up to this many candidates, a search reads them rather than walking the timeframe. At a million sessions, reading
/// 5,000 rows by key and sorting them costs about what walking to a page of a text found once in 200 rows does.
pub(crate) const CANDIDATE_LIMIT: usize = 5_000;

/// The searched columns.
const COLUMNS: [&str; 5] = ["s.user_identifier", "s.session_id", "s.secret_name", "s.target_name", "s.target_host"];

/// The shortest text the trigram index can answer, in characters.
const TRIGRAM: usize = 3;

/// How a listing or a count applies its search.
pub(crate) enum Search {
    /// The query has no search.
    None,
    /// Test every row the listing walks against the pattern. `trigrams`: the index's query, for a text it can answer.
    Scan { pattern: String, trigrams: Option<String> },
    /// Only these sessions (ids) can match; they are still tested against the pattern (SQLite).
    Among { pattern: String, ids: Vec<i64> },
    /// Few sessions match: one statement, whose planner reads them from the trigram indexes (PostgreSQL).
    Few { pattern: String },
    /// Only the sessions the index finds can match, however many (counting a common text: every match is read
    /// anyway, and from the index that is a fraction of the timeframe).
    Indexed { pattern: String, trigrams: String },
}

impl Search {
    /// Whether few sessions match, read from the index and sorted (no slices, no walk).
    pub(crate) fn is_few(&self) -> bool {
        matches!(self, Search::Among { .. } | Search::Few { .. })
    }

    /// Whether the index already knows that no session matches.
    pub(crate) fn matches_nothing(&self) -> bool {
        matches!(self, Search::Among { ids, .. } if ids.is_empty())
    }

    /// The way to count the matches of this search: whatever the index can narrow, it narrows.
    pub(crate) fn for_counting(self) -> Search {
        match self {
            Search::Scan { pattern, trigrams: Some(trigrams) } => Search::Indexed { pattern, trigrams },
            other => other,
        }
    }

    /// Appends ` AND …` for the search, if any.
    pub(crate) fn condition(&self, sql: &mut Sql) {
        let pattern = match self {
            Search::None => return,
            Search::Scan { pattern, .. } | Search::Few { pattern } => pattern,
            Search::Among { pattern, ids } => {
                sql.push(" AND s.id IN ").bind_list(ids.iter().copied());
                pattern
            }
            Search::Indexed { pattern, trigrams } => {
                sql.push(" AND s.id IN (SELECT rowid FROM session_search WHERE session_search MATCH ")
                    .bind(trigrams.clone())
                    .push(")");
                pattern
            }
        };
        sql.push(" AND (");
        for (i, column) in COLUMNS.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push("LOWER(").push(column).push(") LIKE ").bind(pattern.clone()).push(" ESCAPE '\\'");
        }
        sql.push(")");
    }
}

impl Search {
    /// The search `text` as a plain test of each row read (for a few rows found otherwise).
    pub(crate) fn testing_rows(text: Option<&str>) -> Search {
        match text {
            Some(text) => Search::Scan { pattern: like_pattern(text), trigrams: None },
            None => Search::None,
        }
    }
}

impl Store {
    /// Decides how to apply the search `text` (see the module's documentation).
    pub(crate) async fn plan_search(&self, text: Option<&str>) -> Result<Search, StoreError> {
        let Some(text) = text else { return Ok(Search::None) };
        let pattern = like_pattern(text);
        if text.chars().count() < TRIGRAM {
            return Ok(Search::Scan { pattern, trigrams: None });
        }
        let limit = self.search_candidate_limit;
        if self.db.get_database_backend() == DbBackend::Postgres {
            let few = self.estimated_matches(&pattern).await?.is_some_and(|rows| rows <= limit);
            return Ok(if few { Search::Few { pattern } } else { Search::Scan { pattern, trigrams: None } });
        }
        let trigrams = trigram_query(text);
        let mut sql = Sql::new(self.db.get_database_backend());
        // Every trigram of the text must be in the row (without positions, the index cannot say whether they are in
        // sequence: the listing's LIKE does).
        sql.push("SELECT rowid AS id FROM session_search WHERE session_search MATCH ").bind(trigrams.clone());
        sql.push(" LIMIT ").bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1));
        let ids = self
            .db
            .query_all(sql.build())
            .await?
            .iter()
            .map(|row| row.try_get::<i64>("", "id"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(if ids.len() > limit {
            Search::Scan { pattern, trigrams: Some(trigrams) }
        } else {
            Search::Among { pattern, ids }
        })
    }

    /// PostgreSQL's estimate of how many sessions match `pattern` (`None` if the plan's text has none).
    async fn estimated_matches(&self, pattern: &str) -> Result<Option<usize>, StoreError> {
        let mut sql = Sql::new(DbBackend::Postgres);
        sql.push("EXPLAIN SELECT s.id FROM sessions s WHERE 1 = 1");
        Search::Scan { pattern: pattern.to_owned(), trigrams: None }.condition(&mut sql);
        let Some(row) = self.db.query_one(sql.build()).await? else { return Ok(None) };
        let plan: String = row.try_get_by_index(0)?;
        Ok(estimated_rows(&plan))
    }

    /// Sets how many candidates a search reads before it walks instead (tests use it to take either way).
    #[cfg(feature = "testing")]
    pub fn set_search_candidate_limit(&mut self, limit: usize) {
        self.search_candidate_limit = limit;
    }
}

/// The row estimate of a plan's top line: `Seq Scan on sessions s  (cost=0.00..1.00 rows=42 width=8)` → 42.
fn estimated_rows(plan: &str) -> Option<usize> {
    let after = plan.split_once(" rows=")?.1;
    after.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// An FTS5 query that holds when every trigram of `text` is in the row: `"abc" AND "bcd" …`, each trigram once.
fn trigram_query(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut trigrams: Vec<String> = chars.windows(TRIGRAM).map(|w| w.iter().collect()).collect();
    trigrams.sort_unstable();
    trigrams.dedup();
    trigrams.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" AND ")
}

/// The case-insensitive `LIKE` pattern that finds `text` anywhere.
fn like_pattern(text: &str) -> String {
    format!("%{}%", escape_like(&text.to_lowercase()))
}

/// Whether `session` contains the search `text` in a searched column, as the listing's `LOWER(column) LIKE` decides —
/// when memory can be sure to: `None` if the text or a searched value is not plain ASCII.
pub(crate) fn row_matches(text: &str, session: &sra_domain::SessionSummary) -> Option<bool> {
    let needle = text.to_lowercase();
    let values = [&session.user, &session.session_id, &session.secret_name, &session.target_name, &session.target_host];
    if !needle.is_ascii() || !values.iter().all(|v| v.is_ascii()) {
        return None;
    }
    Some(values.iter().any(|v| v.to_ascii_lowercase().contains(&needle)))
}

/// Escapes LIKE's wildcards (and the escape character) so search text matches literally.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{escape_like, estimated_rows, trigram_query};

    #[test]
    fn the_plans_row_estimate_is_read() {
        assert_eq!(estimated_rows("Bitmap Heap Scan on sessions s  (cost=9.70..141.35 rows=107 width=8)"), Some(107));
        assert_eq!(estimated_rows("Seq Scan on sessions s  (cost=0.00..31297.00 rows=999993 width=8)"), Some(999_993));
        assert_eq!(estimated_rows("Result  (cost=0.00..0.01 width=0)"), None);
    }

    #[test]
    fn like_wildcards_match_literally() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn every_trigram_once_quoted() {
        assert_eq!(trigram_query("aaaa"), "\"aaa\"");
        assert_eq!(trigram_query("a\"bc"), "\"\"\"bc\" AND \"a\"\"b\"");
        assert_eq!(trigram_query("user1"), "\"er1\" AND \"ser\" AND \"use\"");
    }
}
