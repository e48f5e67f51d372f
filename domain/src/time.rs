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

#[cfg(test)]
mod tests {
    use super::*;

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
