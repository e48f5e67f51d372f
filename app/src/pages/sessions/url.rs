//! The overview's view as its URL holds it, and links to other views (a parameter changed, the others kept).

use leptos_router::params::ParamsMap;
use sra_domain::{url_keys, RawSessionQuery};

use crate::pages::audit::encode;

/// The view as the URL holds it, checked: the query, or what is wrong with the URL.
pub(super) fn query_from(params: &ParamsMap) -> Result<RawSessionQuery, String> {
    let pairs: Vec<(String, String)> = params.into_iter().map(|(k, v)| (k.to_string(), v.to_owned())).collect();
    RawSessionQuery::from_console_url(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| e.to_string())
}

/// This page's URL with some parameters replaced (`None` removes them) and the others kept.
pub(super) fn href_with(params: &ParamsMap, changes: &[(&str, Option<String>)]) -> String {
    link("/sessions", params, changes)
}

/// `base` with this page's parameters, some replaced (`None` removes them).
pub(super) fn link(base: &str, params: &ParamsMap, changes: &[(&str, Option<String>)]) -> String {
    let mut parts = Vec::new();
    for (key, value) in params {
        if changes.iter().any(|(k, _)| *k == key.as_ref()) {
            continue;
        }
        parts.push(format!("{}={}", encode(key), encode(value)));
    }
    for (key, value) in changes {
        if let Some(value) = value {
            parts.push(format!("{}={}", encode(key), encode(value)));
        }
    }
    if parts.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

/// This page's URL without one filter value (`value: None`: without every value of `keys`), back on the first page.
/// Lists may repeat a key or hold comma-separated values; only the one named goes.
pub(super) fn href_without(params: &ParamsMap, keys: &[&str], value: Option<&str>) -> String {
    let mut parts = Vec::new();
    for (key, held) in params {
        let key = key.as_ref();
        if key == url_keys::CURSOR || key == url_keys::OPEN {
            continue;
        }
        let held = if keys.contains(&key) {
            let Some(value) = value else { continue };
            let kept: Vec<&str> =
                held.split(',').map(str::trim).filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case(value)).collect();
            if kept.is_empty() {
                continue;
            }
            kept.join(",")
        } else {
            held.to_owned()
        };
        parts.push(format!("{}={}", encode(key), encode(&held)));
    }
    if parts.is_empty() {
        "/sessions".to_owned()
    } else {
        format!("/sessions?{}", parts.join("&"))
    }
}

pub(super) fn timeframe_label(params: &ParamsMap) -> String {
    match params.get("range").as_deref() {
        Some("1h") => "Last hour".into(),
        Some("24h") => "Last 24 hours".into(),
        Some("7d") => "Last 7 days".into(),
        Some("custom") => {
            let zone = params
                .get(url_keys::TZ)
                .and_then(|tz| sra_domain::parse_tz(&tz).ok())
                .map_or_else(|| "UTC".to_owned(), crate::local_time::offset_label);
            let time = |key: &str| params.get(key).filter(|v| !v.is_empty()).map(|v| v.replacen('T', " ", 1));
            format!(
                "From {} to {} ({zone})",
                time("from").unwrap_or_else(|| "30 days before the end".into()),
                time("to").unwrap_or_else(|| "now".into())
            )
        }
        _ => "Last 30 days".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ParamsMap {
        let mut map = ParamsMap::new();
        for (k, v) in pairs {
            map.insert(k.to_string(), (*v).to_owned());
        }
        map
    }

    #[test]
    fn the_url_holds_the_whole_view() {
        let p =
            params(&[("status", "failed"), ("status", "completed"), ("range", "7d"), ("q", " db "), ("size", "25")]);
        let q = query_from(&p).unwrap();
        assert_eq!(q.statuses, ["failed", "completed"]);
        assert_eq!((q.range.as_deref(), q.search.as_deref(), q.page_size), (Some("7d"), Some("db"), Some(25)));
        assert_eq!(
            query_from(&params(&[("size", "x")])).unwrap_err(),
            "URL parameter \"size\": \"x\" is not a number of sessions per page"
        );
    }

    #[test]
    fn links_keep_the_view_and_change_only_what_they_say() {
        let p = params(&[("status", "failed"), ("cursor", "abc")]);
        assert_eq!(
            href_with(&p, &[("cursor", None), ("sort", Some("user:asc".into()))]),
            "/sessions?status=failed&sort=user%3Aasc"
        );
        assert_eq!(href_with(&ParamsMap::new(), &[]), "/sessions");
    }

    #[test]
    fn a_chip_takes_away_its_own_value_only_and_goes_back_to_the_first_page() {
        let p = params(&[
            ("resource", "ssh"),
            ("resource", "rdp,postgres"),
            ("status", "failed"),
            ("cursor", "abc"),
            ("open", "s-1"),
        ]);
        assert_eq!(
            href_without(&p, &["resource"], Some("rdp")),
            "/sessions?resource=ssh&resource=postgres&status=failed"
        );
        assert_eq!(href_without(&p, &["resource"], Some("SSH")), "/sessions?resource=rdp%2Cpostgres&status=failed");
        assert_eq!(href_without(&p, &["status"], Some("failed")), "/sessions?resource=ssh&resource=rdp%2Cpostgres");
        let custom = params(&[("range", "custom"), ("from", "2026-12-01T00:00"), ("tz", "60"), ("q", "db")]);
        assert_eq!(href_without(&custom, &["range", "from", "to", "tz"], None), "/sessions?q=db");
    }
}
