//! The REST API under /api/v1 for the central team and integrators: JSON,
//! bearer tokens with scopes on every route (`openapi.json` documents them).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::store::Store;
use crate::tokens::{self, Caller, Scope};
use crate::triage::{self, TriageChange, TriageError};
use crate::views::{self, AssetFilter, FindingFilter, ViewError, VulnerabilityFilter};

/// The OpenAPI document, as checked in.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The API's routes; every one needs a token (read scope at least).
pub fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/sites", get(sites))
        .route("/api/v1/sites/{site}/zones", get(zones))
        .route("/api/v1/assets", get(assets))
        .route("/api/v1/assets/{site}/{ip}", get(asset))
        .route("/api/v1/findings", get(findings))
        .route("/api/v1/findings/{id}", get(finding).patch(change_finding))
        .route("/api/v1/sensors", get(sensors))
        .route("/api/v1/exposure/{site}", get(exposure))
        .route("/api/v1/vulnerabilities", get(vulnerabilities))
        .route("/api/v1/intel", get(intel))
        .route("/api/v1/export/assets.csv", get(export_assets))
        .route("/api/v1/export/findings.csv", get(export_findings))
        .route(
            "/api/v1/export/vulnerabilities.csv",
            get(export_vulnerabilities),
        )
        .route("/api/v1/tokens", get(list_tokens))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .route_layer(middleware::from_fn_with_state(store.clone(), authenticate))
        .with_state(store)
}

/// A JSON error: `{"status": word, "reason": text}`.
pub fn error(status: StatusCode, word: &str, reason: &str) -> Response {
    let body = serde_json::json!({ "status": word, "reason": reason });
    (status, axum::Json(body)).into_response()
}

/// A 500: the store failed (`cause`, logged), or a task died (`None`).
pub(crate) fn server_error(cause: Option<&anyhow::Error>) -> Response {
    match cause {
        Some(e) => {
            tracing::error!("store: {e:#}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error",
                "store unavailable",
            )
        }
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "error", "internal error"),
    }
}

/// The caller whose bearer token `headers` carry, if it is a valid one; a
/// response when the store cannot say.
pub(crate) async fn caller(
    store: &Arc<Store>,
    headers: &HeaderMap,
) -> Result<Option<Caller>, Box<Response>> {
    let Some(token) = bearer(headers) else {
        return Ok(None);
    };
    let store = store.clone();
    match tokio::task::spawn_blocking(move || tokens::authenticate(&store, &token)).await {
        Ok(Ok(caller)) => Ok(caller),
        Ok(Err(e)) => Err(Box::new(server_error(Some(&e)))),
        Err(_) => Err(Box::new(server_error(None))),
    }
}

/// The caller of a bearer token, or 401 (with a WWW-Authenticate challenge).
async fn authenticate(
    State(store): State<Arc<Store>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match caller(&store, request.headers()).await {
        Ok(caller) => caller,
        Err(refused) => return *refused,
    };
    let Some(caller) = caller else {
        tracing::warn!(path = %request.uri().path(), "API request without a valid token");
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid API token is required: Authorization: Bearer faro_…",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// 403 unless `caller` has `needed` (`None`: it has).
fn require(caller: &Caller, needed: Scope) -> Option<Response> {
    if caller.scope >= needed {
        None
    } else {
        tracing::warn!(token = %caller.token_id, needed = needed.name(), "API request refused: scope");
        Some(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!(
                "this needs the {} scope; the token has {}",
                needed.name(),
                caller.scope.name()
            ),
        ))
    }
}

/// Runs a store read off the async workers and answers it as JSON.
async fn json<T: Serialize + Send + 'static>(
    store: Arc<Store>,
    read: impl FnOnce(&Store) -> Result<Option<T>, ViewError> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(move || read(&store)).await {
        Ok(Ok(Some(value))) => axum::Json(value).into_response(),
        Ok(Ok(None)) => error(StatusCode::NOT_FOUND, "not_found", "no such item"),
        Ok(Err(ViewError::BadRequest(reason))) => {
            error(StatusCode::BAD_REQUEST, "bad_request", &reason)
        }
        Ok(Err(ViewError::Store(e))) => server_error(Some(&e)),
        Err(_) => server_error(None),
    }
}

/// A query string that did not parse: 400 with serde's reason.
fn bad_query(e: &axum::extract::rejection::QueryRejection) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_request", &e.body_text())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn sites(State(store): State<Arc<Store>>) -> Response {
    json(store, |s| views::sites(s).map(Some)).await
}

async fn zones(State(store): State<Arc<Store>>, Path(site): Path<String>) -> Response {
    json(store, move |s| views::zones(s, &site).map(Some)).await
}

async fn assets(
    State(store): State<Arc<Store>>,
    filter: Result<Query<AssetFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => json(store, move |s| views::assets(s, &filter).map(Some)).await,
        Err(e) => bad_query(&e),
    }
}

async fn asset(
    State(store): State<Arc<Store>>,
    Path((site, ip)): Path<(String, String)>,
) -> Response {
    json(store, move |s| views::asset(s, &site, &ip)).await
}

async fn findings(
    State(store): State<Arc<Store>>,
    filter: Result<Query<FindingFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => json(store, move |s| views::findings(s, &filter).map(Some)).await,
        Err(e) => bad_query(&e),
    }
}

/// A path that does not parse (a finding id out of range), as JSON.
fn bad_path(e: &axum::extract::rejection::PathRejection) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_request", &e.body_text())
}

async fn finding(
    State(store): State<Arc<Store>>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Response {
    match id {
        Ok(Path(id)) => json(store, move |s| views::finding(s, id)).await,
        Err(e) => bad_path(&e),
    }
}

async fn change_finding(
    State(store): State<Arc<Store>>,
    axum::Extension(caller): axum::Extension<Caller>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
    change: Result<axum::Json<TriageChange>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(refused) = require(&caller, Scope::Triage) {
        return refused;
    }
    let id = match id {
        Ok(Path(id)) => id,
        Err(e) => return bad_path(&e),
    };
    let change = match change {
        Ok(axum::Json(change)) => change,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", &e.body_text()),
    };
    let actor = format!("token {} ({})", caller.name, caller.token_id);
    let applied = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || triage::apply(&store, id, &change, &actor)).await
    };
    match applied {
        Ok(Ok(_)) => json(store, move |s| views::finding(s, id)).await,
        Ok(Err(TriageError::NotFound(_))) => {
            error(StatusCode::NOT_FOUND, "not_found", "no such finding")
        }
        Ok(Err(TriageError::Invalid(reason))) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", &reason)
        }
        Ok(Err(TriageError::Store(e))) => server_error(Some(&e)),
        Err(_) => server_error(None),
    }
}

async fn vulnerabilities(
    State(store): State<Arc<Store>>,
    filter: Result<Query<VulnerabilityFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(filter)) => {
            json(store, move |s| views::vulnerabilities(s, &filter).map(Some)).await
        }
        Err(e) => bad_query(&e),
    }
}

async fn intel(State(store): State<Arc<Store>>) -> Response {
    json(store, |s| views::intel(s).map(Some)).await
}

async fn exposure(State(store): State<Arc<Store>>, Path(site): Path<String>) -> Response {
    json(store, move |s| views::exposure(s, &site)).await
}

/// `?site=` of the exports.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    site: Option<String>,
}

async fn csv(
    store: Arc<Store>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
    export: fn(&Store, Option<&str>) -> anyhow::Result<Vec<u8>>,
) -> Response {
    let Query(query) = match query {
        Ok(q) => q,
        Err(e) => return bad_query(&e),
    };
    match tokio::task::spawn_blocking(move || export(&store, query.site.as_deref())).await {
        Ok(Ok(body)) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response(),
        Ok(Err(e)) => server_error(Some(&e)),
        Err(_) => server_error(None),
    }
}

async fn export_assets(
    State(store): State<Arc<Store>>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    csv(store, query, crate::export::assets_csv).await
}

async fn export_findings(
    State(store): State<Arc<Store>>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    csv(store, query, crate::export::findings_csv).await
}

async fn export_vulnerabilities(
    State(store): State<Arc<Store>>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    csv(store, query, crate::export::vulnerabilities_csv).await
}

async fn sensors(State(store): State<Arc<Store>>) -> Response {
    json(store, |s| views::sensors(s).map(Some)).await
}

async fn list_tokens(
    State(store): State<Arc<Store>>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    if let Some(refused) = require(&caller, Scope::Admin) {
        return refused;
    }
    json(store, |s| {
        tokens::list(s).map(Some).map_err(ViewError::Store)
    })
    .await
}

async fn revoke_token(
    State(store): State<Arc<Store>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = require(&caller, Scope::Admin) {
        return refused;
    }
    json(store, move |s| {
        let revoked = tokens::revoke(s, &id).map_err(ViewError::Store)?;
        Ok(revoked.then(|| serde_json::json!({ "status": "revoked", "id": id })))
    })
    .await
}
