//! Page cursors: opaque to clients, signed so that an edited cursor is refused instead of trusted.
//!
//! A cursor names the position after (or before) a row in the listing's order, and carries a fingerprint of the
//! query and caller it was issued for plus the `as_of` time the listing measures durations to. It is
//! `base64url(json) "." base64url(hmac-sha256(json))[..16 bytes]`, keyed by a secret kept in the database so every
//! replica accepts every other's cursors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sra_domain::{Caller, Millis, QueryError, SessionQuery};

type HmacSha256 = Hmac<Sha256>;

/// How much of the MAC a cursor carries: 128 bits is far beyond guessing.
const MAC_LEN: usize = 16;
/// Cursors longer than this are refused before any decoding.
const MAX_CURSOR_LEN: usize = 2_048;

/// Which way a cursor pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Direction {
    #[serde(rename = "n")]
    Next,
    #[serde(rename = "p")]
    Prev,
}

/// The value of the sort column at the cursor's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum SortValue {
    Int(i64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(rename = "f")]
    pub fingerprint: String,
    #[serde(rename = "d")]
    pub direction: Direction,
    #[serde(rename = "k")]
    pub key: SortValue,
    #[serde(rename = "s")]
    pub session_id: String,
    #[serde(rename = "t")]
    pub as_of: Millis,
}

/// Signs and verifies cursors with the server's key.
#[derive(Clone)]
pub(crate) struct CursorCodec {
    key: std::sync::Arc<[u8]>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec { key: <secret> }")
    }
}

impl CursorCodec {
    pub fn new(key: &[u8]) -> CursorCodec {
        CursorCodec { key: key.into() }
    }

    fn mac(&self, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(payload);
        mac
    }

    pub fn encode(&self, cursor: &Cursor) -> String {
        self.seal(cursor)
    }

    /// The cursor, if `text` is one this server issued, unaltered, for exactly this query and caller.
    pub fn decode(&self, text: &str, fingerprint: &str) -> Result<Cursor, QueryError> {
        let cursor: Cursor = self.open(text).ok_or(QueryError::InvalidCursor)?;
        if cursor.fingerprint != fingerprint {
            return Err(QueryError::InvalidCursor);
        }
        Ok(cursor)
    }

    /// `value` as signed text (cursors, changes tokens).
    pub fn seal<T: Serialize>(&self, value: &T) -> String {
        let payload = serde_json::to_vec(value).expect("cursors and tokens always serialize");
        let tag = self.mac(&payload).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(&tag[..MAC_LEN]))
    }

    /// The value `text` holds, if this server sealed it and it is unaltered.
    pub fn open<T: DeserializeOwned>(&self, text: &str) -> Option<T> {
        if text.len() > MAX_CURSOR_LEN {
            return None;
        }
        let (payload, tag) = text.trim().split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != MAC_LEN {
            return None;
        }
        self.mac(&payload).verify_truncated_left(&tag).ok()?;
        serde_json::from_slice(&payload).ok()
    }
}

/// A digest of everything that decides a listing's rows and order — the caller and every part of the query but the
/// cursor and the page size — so a cursor only continues the listing it came from.
pub(crate) fn fingerprint(caller: &Caller, query: &SessionQuery) -> String {
    let mut hasher = Sha256::new();
    let relevant = (
        caller,
        &query.timeframe,
        &query.statuses,
        &query.resource_types,
        &query.client_interfaces,
        &query.gateways,
        &query.users,
        &query.search,
        &query.sort,
    );
    hasher.update(serde_json::to_vec(&relevant).expect("query parts always serialize"));
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor {
            fingerprint: "fp".into(),
            direction: Direction::Next,
            key: SortValue::Int(1_700_000_000_000),
            session_id: "abc".into(),
            as_of: 42,
        }
    }

    #[test]
    fn a_cursor_round_trips() {
        let codec = CursorCodec::new(b"k");
        assert_eq!(codec.decode(&codec.encode(&cursor()), "fp"), Ok(cursor()));
        let text = Cursor { key: SortValue::Text("bob".into()), ..cursor() };
        assert_eq!(codec.decode(&codec.encode(&text), "fp"), Ok(text));
    }

    #[test]
    fn edited_foreign_or_misapplied_cursors_are_refused() {
        let codec = CursorCodec::new(b"k");
        let good = codec.encode(&cursor());
        let (payload, tag) = good.split_once('.').unwrap();
        // The same position claimed for another row, re-encoded by a client without the key.
        let forged_payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Cursor { session_id: "zzz".into(), ..cursor() }).unwrap());
        for bad in [
            format!("{forged_payload}.{tag}"),
            format!("{payload}.{}", URL_SAFE_NO_PAD.encode([0u8; MAC_LEN])),
            format!("{payload}.{}", &tag[..10]),
            payload.to_owned(),
            "not a cursor".to_owned(),
            "x".repeat(5_000),
            CursorCodec::new(b"other key").encode(&cursor()),
        ] {
            assert_eq!(codec.decode(&bad, "fp"), Err(QueryError::InvalidCursor), "{bad}");
        }
        assert_eq!(codec.decode(&good, "another query"), Err(QueryError::InvalidCursor));
    }

    #[test]
    fn the_fingerprint_ignores_page_size_and_cursor_only() {
        let caller = Caller::self_only("alice");
        let q = SessionQuery::recent();
        let fp = fingerprint(&caller, &q);
        assert_eq!(fp, fingerprint(&caller, &SessionQuery { page_size: 7, cursor: Some("c".into()), ..q.clone() }));
        assert_ne!(fp, fingerprint(&Caller::self_only("bob"), &q));
        assert_ne!(fp, fingerprint(&caller, &SessionQuery { search: Some("x".into()), ..q.clone() }));
    }
}
