//! Vendored GOV.UK Frontend and Kindred's own front-end files, embedded in the binary.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::AppState;

#[derive(RustEmbed)]
#[folder = "../../assets/vendor/govuk-frontend/"]
struct Govuk;

#[derive(RustEmbed)]
#[folder = "../../assets/app/"]
struct App;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/assets/govuk/{*path}",
            get(|Path(p): Path<String>| async move { serve(Govuk::get(&p), &p) }),
        )
        .route(
            "/assets/app/{*path}",
            get(|Path(p): Path<String>| async move { serve(App::get(&p), &p) }),
        )
}

fn serve(file: Option<rust_embed::EmbeddedFile>, path: &str) -> Response {
    match file {
        Some(f) => (
            [
                (
                    header::CONTENT_TYPE,
                    mime_guess::from_path(path).first_or_octet_stream().to_string(),
                ),
                (header::CACHE_CONTROL, "public, max-age=3600".to_string()),
            ],
            f.data.into_owned(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
