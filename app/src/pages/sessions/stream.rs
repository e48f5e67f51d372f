//! The overview's event stream (browser only): the server's `GET /events/sessions` for the view on screen, through
//! the browser's `EventSource`, which reconnects by itself and resumes after the last event it had (`Last-Event-ID`).

use sra_domain::{SessionChanges, ViewChanges};

/// What the stream tells the page.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(super) enum Heard {
    /// The stream is up (first connection, or back after a drop).
    Ready,
    /// The view's changes.
    Changes(SessionChanges),
    /// The stream is down; the browser is trying again.
    Down,
}

/// An open stream; closed when dropped.
pub(super) struct Stream {
    #[cfg(feature = "hydrate")]
    source: web_sys::EventSource,
    #[cfg(feature = "hydrate")]
    _listeners: Vec<leptos::wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        #[cfg(feature = "hydrate")]
        self.source.close();
    }
}

impl Stream {
    /// Opens the stream at `url`, handing what it hears to `heard`. `None` where there is no `EventSource`.
    #[cfg(feature = "hydrate")]
    pub fn open(url: &str, heard: impl Fn(Heard) + Clone + 'static) -> Option<Stream> {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;

        let source = web_sys::EventSource::new(url).ok()?;
        let mut listeners = Vec::new();
        for name in ["ready", "changes", "reset", "error"] {
            let heard = heard.clone();
            let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let data = event.data().as_string().unwrap_or_default();
                match name {
                    "ready" => heard(Heard::Ready),
                    "changes" => match serde_json::from_str::<SessionChanges>(&data) {
                        Ok(changes) => heard(Heard::Changes(changes)),
                        // Not understood: the view is read again rather than shown wrong.
                        Err(_) => heard(reset(event.last_event_id())),
                    },
                    "reset" => heard(reset(event.last_event_id())),
                    _ => heard(Heard::Down),
                }
            });
            source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref()).ok()?;
            listeners.push(listener);
        }
        Some(Stream { source, _listeners: listeners })
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn open(_url: &str, _heard: impl Fn(Heard) + Clone + 'static) -> Option<Stream> {
        None
    }
}

/// "Read the view again", at the position `token`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn reset(token: String) -> Heard {
    Heard::Changes(SessionChanges { token, changes: ViewChanges::Reset })
}
