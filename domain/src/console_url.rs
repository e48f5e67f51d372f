//! The console's URL parameters as a session query.
//!
//! The Sessions Overview keeps its whole view in the URL (`/sessions?status=failed&range=7d&sort=user:asc…`), and the
//! export links carry the same parameters. Both the page and the export endpoint read them here, so a link and its
//! export can never disagree about what "this view" means.

use crate::{parse_rfc3339, InvalidTime, Millis, RawSessionQuery, MINUTE_MS};

/// The parameter names the overview's URL uses.
pub mod keys {
    pub const RANGE: &str = "range";
    pub const FROM: &str = "from";
    pub const TO: &str = "to";
    /// The browser's offset from UTC in minutes east (India `330`, New York `-300`): the custom range's `from`/`to`
    /// are that zone's wall-clock times. Absent means UTC.
    pub const TZ: &str = "tz";
    pub const STATUS: &str = "status";
    pub const RESOURCE: &str = "resource";
    pub const CLIENT: &str = "client";
    pub const GATEWAY: &str = "gateway";
    pub const USER: &str = "user";
    pub const SEARCH: &str = "q";
    pub const SORT: &str = "sort";
    pub const SIZE: &str = "size";
    pub const CURSOR: &str = "cursor";
    /// The session whose detail panel is open; not part of the query.
    pub const OPEN: &str = "open";
    /// The custom range's `range` value.
    pub const CUSTOM: &str = "custom";
}

/// A console URL parameter that cannot be read: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("URL parameter {key:?}: {problem}")]
pub struct UrlParamError {
    pub key: &'static str,
    pub problem: String,
}

/// The offsets a time zone can have, in minutes (UTC−12:00 to UTC+14:00).
const TZ_RANGE: std::ops::RangeInclusive<i64> = -12 * 60..=14 * 60;

/// Reads a `tz` value: minutes east of UTC.
pub fn parse_tz(text: &str) -> Result<i64, String> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|m| TZ_RANGE.contains(m))
        .ok_or_else(|| format!("{text:?} is not an offset from UTC in minutes; allowed: -720 to 840"))
}

/// A time as the console's forms send it: a date-time field's wall-clock minute `YYYY-MM-DDTHH:MM`, read at
/// `offset_minutes` east of UTC, or a full RFC 3339 time (which carries its own zone).
pub fn console_time(text: &str, offset_minutes: i64) -> Result<Millis, InvalidTime> {
    let text = text.trim();
    let wall_clock = text.len() == 16 && text.as_bytes().get(10) == Some(&b'T');
    if wall_clock {
        parse_rfc3339(&format!("{text}:00Z")).map(|utc| utc - offset_minutes * MINUTE_MS)
    } else {
        parse_rfc3339(text)
    }
}

impl RawSessionQuery {
    /// Reads the overview's URL parameters (already percent-decoded, in order). Lists may repeat a key; empty values
    /// count as absent; `from`/`to` apply only with `range=custom` and may be a date-time field's `YYYY-MM-DDTHH:MM`,
    /// read in the `tz` zone. Values themselves (a status name, a sort) are checked later by [`RawSessionQuery::parse`].
    pub fn from_console_url<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RawSessionQuery, UrlParamError> {
        let pairs: Vec<(&str, &str)> = pairs.into_iter().map(|(k, v)| (k, v.trim())).collect();
        let text =
            |key: &str| pairs.iter().rev().find(|(k, v)| *k == key && !v.is_empty()).map(|(_, v)| (*v).to_owned());
        let list = |key: &str| pairs.iter().filter(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned()).collect();
        let custom = text(keys::RANGE).as_deref() == Some(keys::CUSTOM);
        let offset_minutes = match text(keys::TZ) {
            None => 0,
            Some(tz) => parse_tz(&tz).map_err(|problem| UrlParamError { key: keys::TZ, problem })?,
        };
        let time = |key: &'static str| -> Result<Option<Millis>, UrlParamError> {
            text(key)
                .map(|value| {
                    console_time(&value, offset_minutes).map_err(|e| UrlParamError { key, problem: e.to_string() })
                })
                .transpose()
        };
        Ok(RawSessionQuery {
            range: text(keys::RANGE).filter(|_| !custom),
            from: if custom { time(keys::FROM)? } else { None },
            to: if custom { time(keys::TO)? } else { None },
            statuses: list(keys::STATUS),
            resource_types: list(keys::RESOURCE),
            client_interfaces: list(keys::CLIENT),
            gateways: list(keys::GATEWAY),
            users: list(keys::USER),
            search: text(keys::SEARCH),
            sort: text(keys::SORT),
            page_size: text(keys::SIZE)
                .map(|s| {
                    s.parse::<u32>().map_err(|_| UrlParamError {
                        key: keys::SIZE,
                        problem: format!("{s:?} is not a number of sessions per page"),
                    })
                })
                .transpose()?,
            cursor: text(keys::CURSOR),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<RawSessionQuery, UrlParamError> {
        RawSessionQuery::from_console_url(pairs.iter().copied())
    }

    #[test]
    fn the_url_holds_the_whole_view() {
        let q = read(&[("status", "failed"), ("status", "completed"), ("range", "7d"), ("q", " db "), ("size", "25")])
            .unwrap();
        assert_eq!(q.statuses, ["failed", "completed"]);
        assert_eq!((q.range.as_deref(), q.search.as_deref(), q.page_size), (Some("7d"), Some("db"), Some(25)));
        assert_eq!(
            read(&[("size", "x")]).unwrap_err().to_string(),
            "URL parameter \"size\": \"x\" is not a number of sessions per page"
        );
        assert_eq!(read(&[("open", "s-1"), ("cursor", "")]).unwrap(), RawSessionQuery::default());
    }

    #[test]
    fn a_custom_range_is_read_in_the_browsers_zone() {
        let utc = read(&[("range", "custom"), ("from", "2026-11-01T08:00"), ("to", "")]).unwrap();
        assert_eq!((utc.range, utc.from, utc.to), (None, Some(1_793_520_000_000), None));
        // 08:00 in India (UTC+05:30) is 02:30 UTC.
        let india = read(&[("range", "custom"), ("from", "2026-11-01T08:00"), ("tz", "330")]).unwrap();
        assert_eq!(india.from, Some(1_793_520_000_000 - 330 * MINUTE_MS));
        // A full RFC 3339 time carries its own zone.
        let zoned = read(&[("range", "custom"), ("from", "2026-11-01T08:00:00Z"), ("tz", "330")]).unwrap();
        assert_eq!(zoned.from, Some(1_793_520_000_000));
        // Without range=custom, from/to are left alone (the form always sends them).
        assert_eq!(read(&[("range", "7d"), ("from", "2026-11-01T08:00")]).unwrap().from, None);
    }

    #[test]
    fn bad_times_and_zones_name_the_parameter() {
        let err = read(&[("range", "custom"), ("to", "yesterday")]).unwrap_err();
        assert_eq!(err.key, "to");
        let err = read(&[("range", "custom"), ("tz", "900")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "URL parameter \"tz\": \"900\" is not an offset from UTC in minutes; allowed: -720 to 840"
        );
    }
}
