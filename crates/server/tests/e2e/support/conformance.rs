//! Response conformance against the official FlexPortal OpenAPI 3.1 spec.
//!
//! `shared/API-DECISIONS.md` wins over `openapi.json` wherever the two differ. Such a deliberate
//! difference must be listed in `WAIVERS`, and each waiver's reason must name the decision it
//! implements (section and topic of API-DECISIONS.md), so that a waiver can be dropped the day its
//! decision is, and so that any other mismatch fails loudly instead of being waved through.

// Each integration-test binary compiles its own copy of this module and uses only part of it.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::{ValidationError, Validator};
use serde_json::{Value, json};

/// (method, path template, status, selector, reason). A selector starting with `/` waives errors
/// at or below that instance location (`/variants` covers `/variants/0/sku`); any other selector
/// is a keyword (`required`, `additionalProperties`, ...) waived anywhere in that response.
pub const WAIVERS: &[(&str, &str, u16, &str, &str)] = &[
    // ("GET", "/v1/products/{productId}", 200, "/_sync",
    //  "Response shapes / <topic>: <why the schema is overruled>"),
];

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

pub struct Conformance {
    validators: HashMap<(String, String, u16), Validator>,
    /// Each template with its segments split; `None` marks a `{param}` segment.
    templates: Vec<(String, Vec<Option<String>>)>,
}

impl Conformance {
    /// Loads and compiles once; panics with a clear message if the spec file is missing (tests only).
    pub fn load() -> Conformance {
        let path = std::env::var("FLEXPORTAL_OFFICIAL_SPEC").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/flexportal-docs/openapi.json"
            )
            .to_string()
        });
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("cannot read the official FlexPortal spec at {path}: {e} (set FLEXPORTAL_OFFICIAL_SPEC to its location)")
        });
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("official FlexPortal spec at {path} is not JSON: {e}"));
        Self::compile(&doc)
    }

    /// A shared instance (std::sync::OnceLock) so every test reuses one compiled spec.
    pub fn shared() -> &'static Conformance {
        static SHARED: OnceLock<Conformance> = OnceLock::new();
        SHARED.get_or_init(Conformance::load)
    }

    fn compile(doc: &Value) -> Conformance {
        let mut validators = HashMap::new();
        let mut templates = Vec::new();
        let paths = doc.get("paths").and_then(Value::as_object);
        for (template, item) in paths.into_iter().flatten() {
            let segments = template
                .split('/')
                .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                .collect();
            templates.push((template.clone(), segments));
            // Path items also hold `parameters`, `summary` etc., which are not operations.
            for method in METHODS {
                let responses = item
                    .pointer(&format!("/{method}/responses"))
                    .and_then(Value::as_object);
                for (status, response) in responses.into_iter().flatten() {
                    // `default` and `4XX` ranges are not used by the spec; only exact codes are checked.
                    let Ok(status) = status.parse::<u16>() else {
                        continue;
                    };
                    // Response objects may themselves be `$ref`s into `#/components/responses`.
                    let response = match response.get("$ref").and_then(Value::as_str) {
                        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(response),
                        None => response,
                    };
                    let Some(schema) = response.pointer("/content/application~1json/schema") else {
                        continue;
                    };
                    // The operation's schema is wrapped in a root that also carries `components`, so
                    // `#/components/schemas/X` resolves (recursion included) without inlining.
                    let root = json!({ "components": doc.get("components"), "allOf": [schema] });
                    let validator = jsonschema::draft202012::options()
                        .should_validate_formats(false)
                        .offline()
                        .build(&root)
                        .unwrap_or_else(|e| {
                            panic!(
                                "spec schema for {method} {template} {status} does not compile: {e}"
                            )
                        });
                    validators.insert(
                        (method.to_ascii_uppercase(), template.clone(), status),
                        validator,
                    );
                }
            }
        }
        // A stale or sloppy waiver would silently hide real mismatches, so refuse to start with one.
        for (method, template, status, selector, reason) in WAIVERS {
            let key = (method.to_string(), template.to_string(), *status);
            assert!(
                validators.contains_key(&key),
                "waiver for {method} {template} {status} names an operation the spec does not describe"
            );
            assert!(
                !selector.is_empty() && !reason.trim().is_empty(),
                "waiver for {method} {template} {status} needs a selector and a reason"
            );
        }
        Conformance {
            validators,
            templates,
        }
    }

    /// `path` is the actual request path without query string, e.g. "/v1/products/prod_01abc".
    /// Returns Ok(()) when the operation/status is not described by the spec (e.g. our own
    /// extension routes like /v1/api-keys, or a status the spec omits), or when the body validates.
    /// Returns Err(message) listing every validation error (instance path + message) otherwise.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
        let Some((method, template, validator)) = self.operation(method, path, status) else {
            return Ok(());
        };
        let errors: Vec<String> = validator
            .iter_errors(body)
            .filter(|e| !waived(&method, template, status, e))
            .map(|e| format!("  at #{} [{}]: {e}", e.instance_path(), e.kind().keyword()))
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        let shown: String = body.to_string().chars().take(2000).collect();
        Err(format!(
            "{method} {path} -> {status} does not conform to `{method} {template}` {status} of the official spec:\n{}\nbody: {shown}",
            errors.join("\n")
        ))
    }

    /// Whether the spec describes this (method, path, status) — useful for tests that want to assert coverage.
    /// Only responses with an `application/json` schema count: those are what `check` can judge.
    pub fn describes(&self, method: &str, path: &str, status: u16) -> bool {
        self.operation(method, path, status).is_some()
    }

    fn operation(
        &self,
        method: &str,
        path: &str,
        status: u16,
    ) -> Option<(String, &str, &Validator)> {
        let method = method.to_ascii_uppercase();
        let template = self.template_for(path)?;
        let validator = self
            .validators
            .get(&(method.clone(), template.to_string(), status))?;
        Some((method, template, validator))
    }

    /// Literal segments beat parameters position by position, as real routers do, so
    /// `/v1/products/variants` is the variants listing and never product "variants". The template
    /// is chosen by path alone: a method it lacks is then undescribed, not a fallback to `{param}`.
    fn template_for(&self, path: &str) -> Option<&str> {
        let path = path.split('?').next().unwrap_or(path);
        let actual: Vec<&str> = path.split('/').collect();
        self.templates
            .iter()
            .filter(|(_, segs)| {
                segs.len() == actual.len()
                    && segs.iter().zip(&actual).all(|(seg, a)| match seg {
                        Some(literal) => literal == a,
                        None => !a.is_empty(),
                    })
            })
            .min_by_key(|(_, segs)| segs.iter().map(Option::is_none).collect::<Vec<_>>())
            .map(|(template, _)| template.as_str())
    }
}

fn waived(method: &str, template: &str, status: u16, error: &ValidationError<'_>) -> bool {
    let at = error.instance_path().as_str();
    WAIVERS.iter().any(|&(m, t, s, selector, _)| {
        m == method
            && t == template
            && s == status
            && if selector.starts_with('/') {
                at.strip_prefix(selector)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            } else {
                error.kind().keyword() == selector
            }
    })
}

/// Sanity of the checker itself against known facts of the spec; call it from one test.
pub fn self_check() {
    let c = Conformance::shared();
    let fails = |path: &str, status, body: Value, needle: &str| {
        let err = c.check("GET", path, status, &body).err();
        let err = err.unwrap_or_default();
        assert!(
            err.contains(needle),
            "GET {path} {status} should report {needle:?}: {err}"
        );
    };
    let passes = |path: &str, status, body: Value| {
        let got = c.check("GET", path, status, &body);
        assert_eq!(got, Ok(()), "GET {path} {status} should pass");
    };
    let (product, variants) = ("/v1/products/prod_01abc", "/v1/products/variants");
    let minimal = json!({
        "productId": "prod_01abc", "tenantId": "bu_1", "productSku": "SKU-1", "name": "Phone",
        "specification": "128 GB", "category": "phones", "brand": "Acme", "status": "active",
        "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z"
    });
    fails(product, 200, json!({}), "\"productId\" is a required");
    passes(product, 200, minimal.clone());
    let mut sold_out = minimal.clone();
    sold_out["status"] = json!("sold-out");
    fails(product, 200, sold_out, "at #/status [enum]");
    // `$ref: #/components/schemas/Error` must resolve, or every 404 body would pass vacuously.
    fails(product, 404, json!({}), "\"error\" is a required");
    let not_found = json!({ "error": { "code": "NOT_FOUND", "message": "gone" } });
    passes(product, 404, not_found);
    // The literal template wins, so `variants` is the listing and never a product id.
    fails(variants, 200, minimal.clone(), "\"variants\" is a required");
    let page =
        json!({ "variants": [], "count": 0, "limit": 50, "hasMore": false, "nextCursor": null });
    passes(variants, 200, page);
    // Routes and statuses the spec leaves out pass whatever the body.
    passes("/v1/api-keys", 200, json!("anything"));
    passes(product, 418, json!("anything"));
    assert!(c.describes("get", product, 200) && !c.describes("GET", "/v1/api-keys", 200));
}
