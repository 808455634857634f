//! Kindred's own JSON API (`/api/v1/…`), for partner systems doing bulk work
//! on families, referrals and the service directory, described by OpenAPI at
//! `/api/openapi.json`.
//!
//! Callers are registered partner systems with an OAuth2 client-credentials
//! token (`POST /oauth/token`, scope `api`). A system acts for one
//! organisation, and every read and write goes through the same access policy
//! (`crate::access`) and audit as that organisation's users. No access is a
//! 404, exactly like a record that does not exist. Errors are JSON naming the
//! field: `{"error": "invalid_field", "field": "referrals[0].people[1].nhs_number", "message": "…"}`.

mod directory;
mod error;
mod families;
mod referrals;

use axum::Json;
use axum::routing::{MethodRouter, get};
use utoipa::OpenApi;
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};

pub use error::{ApiError, ApiResult, FieldError};

use crate::AppState;
use crate::api_auth::{ApiCaller, SCOPE_API};
use crate::auth::CurrentUser;

/// The calling partner system, acting as a user of its organisation would:
/// every access function takes it as it takes a signed-in user. Its token
/// must carry the `api` scope.
pub struct Caller(pub CurrentUser);

impl axum::extract::FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = ApiCaller::from_request_parts(parts, state)
            .await
            .map_err(ApiError::from_auth)?;
        caller.require_scope(SCOPE_API).map_err(ApiError::from_auth)?;
        Ok(Caller(caller.cu))
    }
}

/// The API's paths, each with its method router, for the page router to mount.
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/api/openapi.json", get(openapi_json)),
        ("/api/v1/families", get(families::list)),
        ("/api/v1/families/{id}", get(families::show)),
        ("/api/v1/referrals", axum::routing::post(referrals::send)),
        ("/api/v1/referrals/{reference}", get(referrals::status)),
        (
            "/api/v1/directory/services",
            get(directory::list).post(directory::publish),
        ),
        ("/api/v1/directory/services/{id}", get(directory::show)),
    ]
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kindred API",
        version = "1.0.0",
        description = "Bulk work on families, referrals and the service directory for a family hub partnership's registered partner systems. Authenticate with an OAuth2 client-credentials token from /oauth/token (scope `api`). The access policy applies exactly as for the system's organisation's users: a record the organisation may not see is 404, exactly like one that does not exist."
    ),
    paths(
        families::list,
        families::show,
        referrals::send,
        referrals::status,
        directory::list,
        directory::show,
        directory::publish,
    ),
    modifiers(&Security),
    security(("oauth2" = ["api"])),
    tags(
        (name = "families", description = "Families the calling organisation works with"),
        (name = "referrals", description = "Referrals into the partnership's front door"),
        (name = "directory", description = "The partnership's service directory: read it, and publish your own organisation's services"),
    )
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(ClientCredentials::new(
                "/oauth/token",
                Scopes::from_iter([("api", "Kindred's own JSON API")]),
            ))])),
        );
    }
}

/// The OpenAPI document, served with no sign-in.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Paging: `page` from 1, `per_page` 1–100 (default 50).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    /// Items per page, 1 to 100.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

pub const MAX_PER_PAGE: i64 = 100;

impl PageQuery {
    /// (page, per_page), or an error naming the parameter.
    pub fn parse(&self) -> ApiResult<(i64, i64)> {
        let page = number(self.page.as_deref(), "page", 1, 1, i64::MAX / MAX_PER_PAGE)?;
        let per_page = number(self.per_page.as_deref(), "per_page", 50, 1, MAX_PER_PAGE)?;
        Ok((page, per_page))
    }
}

/// Reads a batch `{"<key>": [item, …]}` item by item, so one malformed item
/// does not sink the rest: each is the item or the field at fault in it.
pub fn read_items<T: serde::de::DeserializeOwned>(
    body: &[u8],
    key: &str,
    noun: &str,
    max: usize,
) -> ApiResult<Vec<Result<T, FieldError>>> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_json(
            format!("The body is not JSON: {e} (line {}, column {})", e.line(), e.column()),
            None,
        )
    })?;
    let Some(items) = value.get(key).and_then(|v| v.as_array()) else {
        return Err(ApiError::invalid_json(
            format!("The body must be an object with a \"{key}\" array"),
            Some(key),
        ));
    };
    if items.is_empty() {
        return Err(ApiError::invalid_json(format!("Send at least one {noun}"), Some(key)));
    }
    if items.len() > max {
        return Err(ApiError::too_large(
            format!("Send at most {max} {noun}s in one request"),
            key,
        ));
    }
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if let Some(path) = nul_at(item, String::new()) {
                return Err(FieldError {
                    field: format!("{key}[{i}]{path}"),
                    message: "Text may not contain the NUL character".into(),
                });
            }
            serde_path_to_error::deserialize::<_, T>(item).map_err(|e| FieldError {
                field: format!("{key}[{i}].{}", e.path()),
                message: format!("Wrong type: {}", e.inner()),
            })
        })
        .collect())
}

/// Where in `v` a string holds a NUL character (which no database column
/// takes), as a path like `.people[0].given_name`.
fn nul_at(v: &serde_json::Value, at: String) -> Option<String> {
    match v {
        serde_json::Value::String(s) => s.contains('\0').then_some(at),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_at(x, format!("{at}[{i}]"))),
        serde_json::Value::Object(m) => m.iter().find_map(|(k, x)| nul_at(x, format!("{at}.{k}"))),
        _ => None,
    }
}

fn number(raw: Option<&str>, field: &str, default: i64, min: i64, max: i64) -> ApiResult<i64> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid_parameter(
            field,
            format!("{field} must be a whole number from {min} to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_parameters_are_checked_by_name() {
        let q = |page: Option<&str>, per: Option<&str>| PageQuery {
            page: page.map(str::to_string),
            per_page: per.map(str::to_string),
        };
        assert_eq!(q(None, None).parse().unwrap(), (1, 50));
        assert_eq!(q(Some("3"), Some("100")).parse().unwrap(), (3, 100));
        let e = q(Some("0"), None).parse().unwrap_err();
        assert_eq!(e.field(), Some("page"));
        let e = q(None, Some("101")).parse().unwrap_err();
        assert_eq!(e.field(), Some("per_page"));
        let e = q(Some("two"), None).parse().unwrap_err();
        assert_eq!(e.field(), Some("page"));
    }

    #[test]
    fn a_nul_character_is_refused_where_it_is() {
        let body = br#"{"things": [{"a": "fine"}, {"a": ["x", "bad\u0000"]}]}"#;
        let items = read_items::<serde_json::Value>(body, "things", "thing", 10).unwrap();
        assert!(items[0].is_ok());
        assert_eq!(items[1].as_ref().unwrap_err().field, "things[1].a[1]");
    }

    #[test]
    fn the_document_names_every_route() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (path, _) in routes() {
            if path.starts_with("/api/v1/") {
                assert!(doc["paths"].get(path).is_some(), "{path} is not described");
            }
        }
        assert!(doc["components"]["securitySchemes"]["oauth2"].is_object());
    }
}
