//! The axum router: health, `/api/v1`, static assets, Leptos SSR + server functions; request ids and
//! request logging around all of it.

use axum::extract::State;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::{provide_context, use_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tessera_app::{shell, App, OUTPUT_NAME};
use tessera_core::Services;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Router state: the core services plus the options Leptos needs to render.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub leptos: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<AppState> for Services {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids are UUIDv7 (time-ordered, easy to find in logs); an incoming `x-request-id` is kept.
#[derive(Clone, Copy, Default)]
struct MakeUuidV7;

impl MakeRequestId for MakeUuidV7 {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        axum::http::HeaderValue::from_str(&uuid::Uuid::now_v7().to_string()).ok().map(RequestId::new)
    }
}

pub fn build(services: Services) -> Router {
    let config = services.config.clone();
    let leptos = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build();
    let state = AppState { services: services.clone(), leptos: leptos.clone() };
    let routes = generate_route_list(App);
    let pkg_dir = config.site_root.join("pkg");

    Router::new()
        .route("/health/live", get(crate::health::live))
        .route("/health/ready", get(crate::health::ready))
        .route("/.well-known/jwks.json", get(jwks))
        .nest("/api/v1", crate::api::router(config.limits.max_batch_body_bytes))
        .nest("/api/docs", crate::api::docs_router(&config.site_root))
        .nest_service("/pkg", ServeDir::new(pkg_dir).precompressed_gzip())
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let services = services.clone();
                move || {
                    provide_context(services.clone());
                    provide_context(tessera_app::server_fns::request::SessionMemo::default());
                    // <Redirect/> during SSR is a 302 for every client (leptos_axum's default answers 200
                    // with a Location header unless the request accepts text/html, as a form post does).
                    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                        leptos_router::components::provide_server_redirect(move |path: &str| {
                            if let Ok(location) = HeaderValue::from_str(path) {
                                response.insert_header(header::LOCATION, location);
                                response.set_status(axum::http::StatusCode::FOUND);
                            }
                        });
                    }
                    // The hydration script carries this response's nonce; the CSP names it.
                    if let (Some(nonce), Some(response)) =
                        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
                    {
                        if let Ok(value) = HeaderValue::from_str(&crate::security::page_csp(&nonce)) {
                            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
                        }
                    }
                }
            },
            {
                let leptos = leptos.clone();
                move || shell(leptos.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(DefaultBodyLimit::max(config.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(services.clone(), crate::security::origin_check))
        .layer(middleware::from_fn_with_state(services.clone(), crate::security::rate_limit))
        .layer(middleware::from_fn_with_state(services.clone(), crate::security::headers))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeUuidV7))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request<_>| {
                            let request_id = request
                                .headers()
                                .get(&REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            tracing::info_span!(
                                "request",
                                request_id = %request_id,
                                method = %request.method(),
                                path = %request.uri().path(),
                            )
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO))
                        .on_failure(DefaultOnFailure::new().level(Level::WARN)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone())),
        )
        .with_state(state)
}

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens (current and recent ones).
async fn jwks(State(services): State<Services>) -> Response {
    match services.auth().keys().jwks().await {
        Ok(keys) => ([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(keys)).into_response(),
        Err(e) => crate::api::Problem::from(e).into_response(),
    }
}
