//! Times as a person reads them: in the browser's own zone, with the absolute instant on hover.
//!
//! The server does not know the reader's zone, so server rendering shows UTC (labelled). Once the page is hydrated the
//! same elements switch to local time; the switch waits for hydration so that the browser's first render matches the
//! server's HTML exactly.

use leptos::prelude::*;
use sra_domain::{format_rfc3339, Millis, MINUTE_MS};

/// Whether the page runs in the browser (hydrated) yet; provided once by the app.
#[derive(Clone, Copy)]
pub struct Hydrated(pub RwSignal<bool>);

/// Provides [`Hydrated`], set once effects run (only in the browser).
pub fn provide_hydrated() {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    provide_context(Hydrated(hydrated));
}

fn hydrated() -> bool {
    use_context::<Hydrated>().is_some_and(|h| h.0.get())
}

/// The browser's offset from UTC at `ms`, in minutes east (India `330`); 0 outside the browser.
pub fn offset_minutes_at(ms: Millis) -> i64 {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new_0();
        date.set_time(ms as f64);
        -(date.get_timezone_offset() as i64)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ms;
        0
    }
}

/// The browser's zone name (`Europe/Berlin`), if it tells.
fn zone_name() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        js_sys::Reflect::get(&format.resolved_options(), &js_sys::JsString::from("timeZone"))
            .ok()
            .and_then(|v| v.as_string())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

/// The value of a form's hidden `tz` field: the browser's offset from UTC now, in minutes east; empty until hydrated
/// (then the server reads the form's times as UTC, which is what server-rendered pages say they are).
pub fn tz_field() -> String {
    if hydrated() {
        offset_minutes_at(browser_now()).to_string()
    } else {
        String::new()
    }
}

/// `UTC+05:30` for an offset in minutes east.
pub fn offset_label(minutes: i64) -> String {
    let sign = if minutes < 0 { '−' } else { '+' };
    format!("UTC{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
}

/// The reader's zone as the page names it: `Asia/Kolkata (UTC+05:30)` in the browser, `UTC` on the server.
pub fn zone_label() -> String {
    if !hydrated() {
        return "UTC".into();
    }
    let offset = offset_label(offset_minutes_at(browser_now()));
    match zone_name() {
        Some(name) if name != "UTC" && name != "Etc/UTC" => format!("{name} ({offset})"),
        Some(_) if offset == offset_label(0) => "UTC".to_owned(),
        _ => offset,
    }
}

/// Now in the browser, in epoch milliseconds; 0 on the server (nothing ticks there).
pub fn browser_now() -> Millis {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as Millis
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}

/// `YYYY-MM-DD HH:MM:SS` of an instant seen at `offset` minutes east of UTC.
fn wall_clock(ms: Millis, offset: i64) -> String {
    let shifted = format_rfc3339(ms + offset * MINUTE_MS);
    format!("{} {}", &shifted[..10], &shifted[11..19])
}

/// An instant as the reader's wall clock: (`YYYY-MM-DD HH:MM:SS`, the zone it is in). UTC until hydrated.
pub fn local(ms: Millis) -> (String, String) {
    if hydrated() {
        let offset = offset_minutes_at(ms);
        (wall_clock(ms, offset), offset_label(offset))
    } else {
        (wall_clock(ms, 0), "UTC".into())
    }
}

/// The full description of an instant: local wall clock with seconds, its zone, and the instant in UTC.
pub fn hover(ms: Millis) -> String {
    let (wall, zone) = local(ms);
    format!("{wall} {zone} · {}", format_rfc3339(ms))
}

/// A `<time>` in the reader's zone; `seconds` keeps the seconds in the text. Hovering shows the full local time with
/// its zone and the instant in UTC.
#[component]
pub fn LocalTime(ms: Millis, #[prop(optional)] seconds: bool) -> impl IntoView {
    let text = move || {
        let (wall, zone) = local(ms);
        let wall = if seconds { wall } else { wall[..16].to_owned() };
        if zone == "UTC" {
            format!("{wall} UTC")
        } else {
            wall
        }
    };
    let title = move || hover(ms);
    view! {
        <time datetime=format_rfc3339(ms) title=title>
            {text}
        </time>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clocks_and_offsets() {
        let ms = 1_796_000_000_000;
        assert_eq!(format_rfc3339(ms), "2026-11-30T00:53:20.000Z");
        assert_eq!(wall_clock(ms, 330), "2026-11-30 06:23:20");
        assert_eq!(wall_clock(ms, -600), "2026-11-29 14:53:20");
        assert_eq!(offset_label(330), "UTC+05:30");
        assert_eq!(offset_label(-210), "UTC−03:30");
        assert_eq!(offset_label(0), "UTC+00:00");
    }
}
