//! `GET /openapi.json`: the OpenAPI document of the user API and the gateway API, generated from the handlers'
//! annotations and the `sra-api` types, so it cannot drift from what the server does.

use axum::Json;
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
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Credentials for a bearer token"),
        (name = "sessions", description = "Sessions, under the caller's visibility (Self, Own, All)"),
        (name = "audit", description = "Audit trails"),
        (name = "gateway", description = "For gateways: report sessions and heartbeats, with the gateway's own key \
                                           (`sra-server admin gateway key NAME`) as Authorization: Bearer"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
