//! The OpenAPI document: generated from the handlers, completed with what every `/v1` route has
//! in common (auth, tenant header, pipeline errors).

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, Required};
use utoipa::{OpenApi as _, PartialSchema};

use crate::error::ErrorBody;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "flexportal API",
        description = "Subscription commerce for physical goods. Speaks the FlexPortal v1 API and extends it (API keys, business-unit settings, events, idempotency keys, rate-limit headers).",
        license(name = "Apache-2.0")
    ),
    components(schemas(ErrorBody))
)]
struct Base;

pub fn base() -> OpenApi {
    Base::openapi()
}

/// Adds the bearer scheme, the `Tenant-ID` header and the errors the pipeline can answer with
/// to every operation.
pub fn finish(mut api: OpenApi) -> OpenApi {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearerAuth",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API key (pk_live_…)"))
                .build(),
        ),
    );
    let error_ref = || Content::new(Some(Ref::from_schema_name("ErrorBody")));
    for item in api.paths.paths.values_mut() {
        if let Some(post) = item.post.as_mut() {
            post.parameters
                .get_or_insert_with(Vec::new)
                .push(idempotency_header().into());
            for (status, text) in [
                (
                    "409",
                    "IDEMPOTENCY_KEY_IN_USE: the first request with this key is still running",
                ),
                (
                    "422",
                    "IDEMPOTENCY_KEY_REUSED: this key was used with a different body",
                ),
            ] {
                post.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(text)
                            .content("application/json", error_ref())
                            .build()
                            .into()
                    });
            }
        }
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            op.security = Some(vec![SecurityRequirement::new(
                "bearerAuth",
                Vec::<String>::new(),
            )]);
            let params = op.parameters.get_or_insert_with(Vec::new);
            params.push(tenant_header().into());
            let responses = &mut op.responses.responses;
            let mut add = |status: &str, text: &str| {
                responses.entry(status.to_string()).or_insert_with(|| {
                    ResponseBuilder::new()
                        .description(text)
                        .content("application/json", error_ref())
                        .build()
                        .into()
                });
            };
            add(
                "400",
                "VALIDATION_ERROR or another refusal; `details` names each bad field",
            );
            add("401", "AUTH_REQUIRED or INVALID_TOKEN");
            add("403", "NO_TENANT_ACCESS or INSUFFICIENT_PERMISSIONS");
            add("413", "PAYLOAD_TOO_LARGE");
            add("429", "RATE_LIMITED; see Retry-After");
            add("500", "INTERNAL_ERROR");
        }
    }
    api
}

fn idempotency_header() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: within 24 h the same key and body replay the first response \
             (header Idempotent-Replayed: true); a different body is 422 IDEMPOTENCY_KEY_REUSED; \
             while the first request runs, 409 IDEMPOTENCY_KEY_IN_USE. Scoped to the business unit.",
        ))
        .schema(Some(String::schema()))
        .build()
}

fn tenant_header() -> Parameter {
    ParameterBuilder::new()
        .name("Tenant-ID")
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some("The business unit (bu_…) the request acts for"))
        .schema(Some(String::schema()))
        .build()
}
