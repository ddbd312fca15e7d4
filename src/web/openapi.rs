//! The OpenAPI 3 document of both APIs, generated from the handlers' annotations.
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::web::{api_v1, api_v2, uptime};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "statuspost",
        description = "The public read API (Statuspage v2 shape, no authentication) and the write API (bearer tokens)."
    ),
    paths(
        api_v2::summary,
        api_v2::status,
        api_v2::components,
        api_v2::incidents,
        api_v2::unresolved,
        api_v2::scheduled_maintenances,
        api_v2::upcoming_maintenances,
        api_v2::active_maintenances,
        uptime::component_uptime,
        api_v1::incidents::list_incidents,
        api_v1::incidents::get_incident,
        api_v1::incidents::create_incident,
        api_v1::incidents::post_update,
        api_v1::corrections::correct_update,
        api_v1::recovery::put_data_integrity,
        api_v1::recovery::add_milestone,
        api_v1::recovery::complete_milestone,
        api_v1::maintenance::edit_maintenance,
        api_v1::maintenance::cancel_maintenance,
        api_v1::maintenance::stop_series,
        api_v1::components::list_components,
        api_v1::components::create_component,
        api_v1::components::update_component,
        api_v1::components::delete_component,
        api_v1::subscribers::list_subscribers,
        api_v1::subscribers::create_subscriber,
        api_v1::subscribers::delete_subscriber,
        api_v1::templates::list_templates,
        api_v1::templates::get_template,
        api_v1::templates::create_template,
        api_v1::templates::update_template,
        api_v1::templates::delete_template,
    ),
    // The shared error responses refer to the error body by name, and
    // `IntoResponses` types bring no schemas with them.
    components(schemas(api_v1::ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "v2", description = "Public, read-only, Statuspage-compatible"),
        (name = "v1", description = "Authenticated with `Authorization: Bearer sp_...`"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sp_...")
                    .build(),
            ),
        );
    }
}

/// The document as JSON.
pub fn json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
}
