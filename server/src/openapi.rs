//! `GET /openapi.json`: the OpenAPI document of the user API and the gateway API, generated from the handlers'
//! annotations and the `sra-api` types, so it cannot drift from what the server does.

use std::sync::LazyLock;

use axum::Json;
use serde_json::{json, Map, Value};
use utoipa::OpenApi;

/// The OpenAPI document, generated from the handlers and the `sra-api` types.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "SRA Sessions API",
        description = "List and audit Secure Remote Access sessions. Shaped like the Akeyless V2 API: POST with JSON \
                       bodies at the server root, kebab-case request keys, snake_case answers, unknown request keys \
                       ignored. Authenticate with /auth, then send the token as \"token\" or Authorization: Bearer."
    ),
    paths(
        crate::api::auth,
        crate::api::list_sra_sessions,
        crate::api::list_sra_session_audit,
        crate::api::list_sra_audit,
        crate::api::stream_sra_audit,
        crate::api::terminate_sra_session,
        crate::api::terminate_sra_sessions,
        crate::api::list_sra_blocks,
        crate::api::lift_sra_block,
        crate::gateway_api::session_update,
        crate::gateway_api::session_updates,
        crate::gateway_api::heartbeat
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Credentials for a bearer token"),
        (name = "sessions", description = "Sessions, under the caller's visibility (Self, Own, All)"),
        (name = "audit", description = "Audit trails"),
        (name = "gateway", description = "For gateways: report sessions and heartbeats, with the gateway's own key \
                                           (`sra-server admin gateway key NAME`) as Authorization: Bearer"),
    )
)]
pub struct ApiDoc;

/// The two kinds of credentials: a user's token from `/auth`, and a gateway's own key. Both travel as
/// `Authorization: Bearer`, but neither is accepted where the other is asked for.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description.to_owned())).build(),
            )
        };
        components.add_security_scheme(
            USER_TOKEN,
            scheme("A token from POST /auth (t-…). Akeyless clients may send it as the body's \"token\" instead."),
        );
        components.add_security_scheme(
            GATEWAY_KEY,
            scheme("A gateway's own key (g-…), issued by `sra-server admin gateway key NAME`."),
        );
    }
}

/// The security scheme of users' bearer tokens.
pub const USER_TOKEN: &str = "userToken";
/// The security scheme of gateways' keys.
pub const GATEWAY_KEY: &str = "gatewayKey";

/// The served document: what `utoipa` generates from the handlers and types, with each request schema constrained to
/// exactly what the server accepts (`sra_api::contract`), the answers every endpoint can give, the servers, and the
/// links between operations.
pub fn document() -> Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        // A document built from types always serializes.
        let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
        constrain_requests(&mut document);
        add_common_answers(&mut document);
        add_links(&mut document);
        document["servers"] =
            json!([{"url": "/", "description": "This server (the API is at its root, as Akeyless's)"}]);
        document
    });
    DOCUMENT.clone()
}

fn constrain_requests(document: &mut Value) {
    let Some(Value::Object(schemas)) = document.pointer_mut("/components/schemas") else { return };
    for name in sra_api::contract::REQUESTS {
        if let Some(derived) = schemas.remove(name) {
            let constrained = sra_api::contract::request_schema(name, derived.clone()).unwrap_or(derived);
            schemas.insert(name.to_owned(), constrained);
        }
    }
}

/// What any endpoint may answer besides its own: the plumbing's refusals, each an `ErrorBody`.
fn add_common_answers(document: &mut Value) {
    let error = |description: &str, headers: Value| {
        let mut answer = json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        });
        if headers.as_object().is_some_and(|h| !h.is_empty()) {
            answer["headers"] = headers;
        }
        answer
    };
    let retry_after = json!({"Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    }});
    let allow = json!({"Allow": {"description": "The methods the endpoint takes: POST", "schema": {"type": "string"}}});
    let Some(Value::Object(paths)) = document.get_mut("paths") else { return };
    for (path, item) in paths.iter_mut() {
        let Some(Value::Object(operations)) = Some(item) else { continue };
        let gateway = path.starts_with("/gateway/");
        for operation in operations.values_mut() {
            let Some(Value::Object(responses)) = operation.get_mut("responses") else { continue };
            let mut add = |status: &str, answer: Value| {
                responses.entry(status.to_owned()).or_insert(answer);
            };
            add(
                "400",
                error("The body is not a JSON object, or a value is not allowed (named in the message)", json!({})),
            );
            add("405", error("Not POST: the endpoint takes POST with a JSON body", allow.clone()));
            add("413", error(if gateway { "The body is over 4 MiB" } else { "The body is over 64 KiB" }, json!({})));
            add("415", error("The body is not sent as application/json", json!({})));
            add(
                "503",
                error(
                    "The database is unreachable or the server is too busy now; Retry-After says when to try again",
                    retry_after.clone(),
                ),
            );
            if let Some(Value::Object(too_many)) = responses.get_mut("429") {
                too_many.insert("headers".into(), retry_after.clone());
            }
        }
    }
}

/// Links from answers to the requests they lead to (OpenAPI 3.1 links, which a client or a stateful tester follows).
fn add_links(document: &mut Value) {
    let link = |operation: &str, description: &str, body: Value| json!({"operationId": operation, "description": description, "requestBody": body});
    // A page token or a changes token is only valid with the same other keys as the request that earned it, which a
    // link cannot say: pagination is described in the operation instead.
    let mut links = Map::new();
    links.insert(
        "terminate".into(),
        link(
            "terminate_sra_session",
            "Terminate the first session listed (with a reason)",
            json!({"session-id": "$response.body#/sessions/0/session_id", "reason": "ended from its listing"}),
        ),
    );
    links.insert(
        "auditTrail".into(),
        link(
            "list_sra_session_audit",
            "The first session's audit trail",
            json!({"session-id": "$response.body#/sessions/0/session_id"}),
        ),
    );
    if let Some(answer) = document.pointer_mut("/paths/~1list-sra-sessions/post/responses/200") {
        answer["links"] = Value::Object(links);
    }
    if let Some(answer) = document.pointer_mut("/paths/~1list-sra-blocks/post/responses/200") {
        answer["links"] = json!({"lift": link(
            "lift_sra_block",
            "Lift the first block listed",
            json!({"id": "$response.body#/blocks/0/id"}),
        )});
    }
}

/// `GET /openapi.json`.
pub async fn openapi() -> Json<Value> {
    Json(document())
}
