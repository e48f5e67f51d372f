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

/// Reads an RFC 3339 time such as `2026-11-28T23:56:33Z`, `2026-11-28T23:56:33.5+01:00` or a bare date `2026-11-28`
/// (midnight UTC). Fractions finer than a millisecond are truncated.
pub fn parse_rfc3339(text: &str) -> Result<Millis, InvalidTime> {
    let invalid = || InvalidTime(text.to_owned());
    let t = text.trim();
    let number = |s: &str| -> Result<i64, InvalidTime> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        s.parse().map_err(|_| invalid())
    };
    let (date, time) = match t.find(['T', 't', ' ']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut parts = date.splitn(3, '-');
    let (Some(y), Some(mo), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    if y.len() != 4 || mo.len() != 2 || d.len() != 2 {
        return Err(invalid());
    }
    let (year, month, day) = (number(y)?, number(mo)?, number(d)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(invalid()),
    };
    if !(1..=days_in_month).contains(&day) {
        return Err(invalid());
    }
    let mut ms = days_from_civil(year, month, day) * DAY_MS;
    let Some(time) = time else {
        return Ok(ms);
    };
    let (clock, offset_ms) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let i = time.rfind(['+', '-']).ok_or_else(invalid)?;
        let (clock, offset) = (&time[..i], &time[i + 1..]);
        let (oh, om) = offset.split_once(':').ok_or_else(invalid)?;
        let (oh, om) = (number(oh)?, number(om)?);
        if oh > 23 || om > 59 || offset.len() != 5 {
            return Err(invalid());
        }
        let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
        (clock, sign * (oh * HOUR_MS + om * MINUTE_MS))
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let fields: Vec<&str> = hms.split(':').collect();
    let [h, m, s] = fields.as_slice() else {
        return Err(invalid());
    };
    if h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return Err(invalid());
    }
    let (h, m, s) = (number(h)?, number(m)?, number(s)?);
    // 60 admits a leap second, as RFC 3339 does.
    if h > 23 || m > 59 || s > 60 {
        return Err(invalid());
    }
    ms += h * HOUR_MS + m * MINUTE_MS + s * SECOND_MS;
    if let Some(f) = fraction {
        // Any number of digits (RFC 3339 sets no limit): only the first three count.
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let digits: String = f.chars().chain("000".chars()).take(3).collect();
        ms += number(&digits)?;
    }
    Ok(ms - offset_ms)
}

/// Text that is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time {0:?}; expected RFC 3339, e.g. 2026-11-28T09:30:00Z or 2026-11-28")]
pub struct InvalidTime(pub String);

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn rfc3339_is_read_back() {
        for ms in [0, 951_782_400_000, 1_795_910_193_123, -1, 4_102_444_799_999] {
            assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Ok(ms), "{ms}");
        }
        assert_eq!(parse_rfc3339("2026-11-28"), parse_rfc3339("2026-11-28T00:00:00Z"));
        assert_eq!(parse_rfc3339("2026-11-28T01:30:00+01:30"), parse_rfc3339("2026-11-28T00:00:00Z"));
        assert_eq!(parse_rfc3339("2026-11-27T23:00:00.5-01:00"), Ok(1_795_824_000_500));
        assert_eq!(parse_rfc3339("2026-11-28T00:00:00.123456Z"), Ok(1_795_824_000_123));
        // As many fraction digits as a writer likes (JSON Schema's date-time allows any).
        assert_eq!(parse_rfc3339("2026-11-28T00:00:00.1234567890123456789012Z"), Ok(1_795_824_000_123));
        for bad in [
            "",
            "yesterday",
            "2026-02-29",
            "2026-13-01",
            "2026-11-28T24:00:00Z",
            "2026-11-28T10:00:00",
            "2026-11-28T10:00Z",
            "2026-11-28T10:00:00+1:00",
            "1795824000000",
            "2026-1-28",
            "2026-11-28T10:00:00.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), Err(InvalidTime(bad.to_owned())), "{bad:?}");
        }
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
