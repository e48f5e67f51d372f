//! Time as milliseconds since the Unix epoch.
//!
//! Sessions are stored, compared and paged by integer milliseconds: the same arithmetic on SQLite and PostgreSQL,
//! exact keyset cursors, and no time-zone handling until a value is shown to a person (in their own zone).

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

pub const SECOND_MS: Millis = 1_000;
pub const MINUTE_MS: Millis = 60 * SECOND_MS;
pub const HOUR_MS: Millis = 60 * MINUTE_MS;
pub const DAY_MS: Millis = 24 * HOUR_MS;

/// A compact duration such as `45s`, `12m 05s`, `3h 07m` or `2d 04h`, the way the grid shows it.
/// Negative input (clock skew between a gateway and the server) shows as `0s`.
pub fn format_duration(ms: Millis) -> String {
    let secs = ms.max(0) / SECOND_MS;
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s:02}s"),
        (0, _, _) => format!("{h}h {m:02}m"),
        _ => format!("{d}d {h:02}h"),
    }
}

/// An instant as RFC 3339 in UTC with millisecond precision, e.g. `2026-11-28T23:56:33.000Z`.
pub fn format_rfc3339(ms: Millis) -> String {
    let days = ms.div_euclid(DAY_MS);
    let in_day = ms.rem_euclid(DAY_MS);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (in_day / HOUR_MS, in_day / MINUTE_MS % 60, in_day / SECOND_MS % 60, in_day % 1_000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_in_utc() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(format_rfc3339(1_795_910_193_123), "2026-11-28T23:56:33.123Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn durations_read_like_a_person_would_write_them() {
        assert_eq!(format_duration(-5), "0s");
        assert_eq!(format_duration(999), "0s");
        assert_eq!(format_duration(45 * SECOND_MS), "45s");
        assert_eq!(format_duration(12 * MINUTE_MS + 5 * SECOND_MS), "12m 05s");
        assert_eq!(format_duration(3 * HOUR_MS + 7 * MINUTE_MS + 59 * SECOND_MS), "3h 07m");
        assert_eq!(format_duration(2 * DAY_MS + 4 * HOUR_MS), "2d 04h");
    }
}
