//! A typed client for the flexportal / FlexPortal v1 API.
//!
//! Typed methods turn error statuses into [`Error::Api`]; [`Client::send`] is the escape hatch
//! for requests the typed methods are designed not to produce (bad bodies, missing headers),
//! and it never fails on a status. Every response of either kind can be inspected through an
//! observer, which is how the end-to-end tests check each body against the official schema.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flexportal_client::Error> {
//! use futures_util::TryStreamExt;
//! use flexportal_client::{Client, ProductQuery};
//!
//! let client = Client::new("http://127.0.0.1:8080", "pk_live_eu_…", "bu_…");
//! let active: Vec<_> = client
//!     .products(ProductQuery { status: Some("active".into()), ..ProductQuery::default() })
//!     .try_collect()
//!     .await?;
//! println!("{} active products", active.len());
//! # Ok(()) }
//! ```

mod endpoints;
mod error;
mod inputs;
mod models;
mod raw;
pub mod webhooks;

use std::sync::Arc;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;

pub use error::{Error, ErrorDetail};
pub use inputs::{
    Address, AssetChanges, AssetQuery, BillingGroupQuery, BillingGroupWrite, BuyoutRequest,
    CustomerChanges, CustomerQuery, EarlyReturnRequest, EventQuery, Extension, FileQuery,
    FileUpload, FileUrlRequest, GenerateContract, ListQuery, MarkFailed, MarkPaid, NewApiKey,
    NewOrder, NewOrderCustomer, NewOrderItem, NewPricing, NewProduct, NewRental, NewVariant,
    OrderQuery, PaymentQuery, ProductQuery, RentalCancellation, RentalExportFields,
    RentalExportRequest, RentalQuery, Replacement, UpgradeRequest, VariantQuery,
    WebhookEndpointWrite,
};
pub use models::{
    ApiKey, ApiKeyCreated, ApiKeyRevoked, Asset, AssetDeleted, AssetRecovery, AssetRental,
    AssetWrite, BillingGroup, BoughtOut, BusinessUnit, BuyoutQuote, ContractGenerated, Customer,
    CustomerDeleted, CustomerWrite, Discount, EarlyReturnQuote, Event, Extended, File, FileContent,
    FileDeleted, FileUrl, FileWrite, ImportError, ImportResult, ImportSummary, InvoiceIssued,
    LineItem, Order, OrderCustomer, OrderItem, OrderTotals, OrderWrite, Page, Payment,
    PaymentWrite, Pricing, Product, ProductDeleted, ProductSync, ProductWrite, Rental,
    RentalCancelled, RentalCreated, RentalExport, RentalNotesSaved, RentalProgress, Replaced,
    ReturnedEarly, Upgraded, Variant, VariantResult, VariantStatusResult, WebhookAttempt,
    WebhookEndpoint, WebhookEndpointCreated, WebhookSecretRotated,
};
pub use raw::{Exchange, RawBody, RawRequest, RawResponse};
/// Re-exported because [`Exchange`] and [`RawResponse`] expose its header types.
pub use reqwest;

type Observer = Arc<dyn Fn(&Exchange<'_>) + Send + Sync>;

/// A connection to one server, acting as one API key for one business unit. Cloning is cheap
/// and shares the connection pool, so derive per-tenant or per-key clients freely.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    tenant_id: String,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Client {
    // The API key is a secret; keep it out of logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("tenant_id", &self.tenant_id)
            .field("observed", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`) that authenticates
    /// with `api_key` and acts for the business unit `tenant_id`.
    pub fn new(
        base_url: impl Into<String>,
        api_key: impl Into<String>,
        tenant_id: impl Into<String>,
    ) -> Client {
        let base_url = base_url.into().trim_end_matches('/').to_string();
        Client {
            http: reqwest::Client::new(),
            base_url,
            api_key: api_key.into(),
            tenant_id: tenant_id.into(),
            observer: None,
        }
    }

    /// Called with every response received (typed and raw calls alike), e.g. for schema checks in tests.
    /// It runs before decoding, so it also sees the bodies a typed call then rejects.
    pub fn with_observer(mut self, observer: Arc<dyn Fn(&Exchange<'_>) + Send + Sync>) -> Client {
        self.observer = Some(observer);
        self
    }

    /// The same client acting for another business unit, e.g. to probe tenant isolation.
    pub fn with_tenant(&self, tenant_id: impl Into<String>) -> Client {
        Client {
            tenant_id: tenant_id.into(),
            ..self.clone()
        }
    }

    /// The same client authenticating with another key, e.g. one just created with fewer permissions.
    pub fn with_api_key(&self, api_key: impl Into<String>) -> Client {
        Client {
            api_key: api_key.into(),
            ..self.clone()
        }
    }

    /// The server address, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Raw escape hatch: never turns a status into an error.
    ///
    /// Sends the client's credentials unless the request omits them or names its own
    /// `Authorization` / `Tenant-ID` header. Errors only when no response arrived.
    pub async fn send(&self, request: RawRequest) -> Result<RawResponse, Error> {
        let method = Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            Error::InvalidRequest(format!("`{}` is not an HTTP method", request.method))
        })?;
        let mut builder = self.http.request(method, self.url(&request.path));
        if !request.omit_auth && !request.names_header("authorization") {
            builder = builder.bearer_auth(&self.api_key);
        }
        if !request.omit_tenant && !request.names_header("tenant-id") {
            builder = builder.header("Tenant-ID", &self.tenant_id);
        }
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let own_content_type = request.names_header("content-type");
        builder = match &request.body {
            None => builder,
            Some(RawBody::Json(value)) => builder.json(value),
            // The caller's own Content-Type wins, e.g. to send a body the server must not accept.
            Some(RawBody::Bytes { bytes, .. }) if own_content_type => builder.body(bytes.clone()),
            Some(RawBody::Bytes {
                content_type,
                bytes,
            }) => builder
                .header(CONTENT_TYPE, content_type)
                .body(bytes.clone()),
        };
        let path = request.path.split('?').next().unwrap_or_default();
        self.exchange(&request.method, path, builder).await
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}/{path}", self.base_url)
        }
    }

    /// A request carrying the client's credentials, as every `/v1` call needs.
    fn authed(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.api_key)
            .header("Tenant-ID", &self.tenant_id)
    }

    /// Sends, reads the whole body and shows the result to the observer. `path` is passed
    /// separately so the observer sees the API path, not the full URL.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        request: RequestBuilder,
    ) -> Result<RawResponse, Error> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?.to_vec();
        let json = serde_json::from_slice(&bytes).ok();
        if let Some(observe) = &self.observer {
            observe(&Exchange {
                method,
                path,
                status,
                headers: &headers,
                body: json.as_ref(),
            });
        }
        Ok(RawResponse {
            status,
            headers,
            bytes,
            json,
        })
    }

    /// An authenticated call whose 2xx body decodes as `T`; `body` attaches the payload.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<T, Error> {
        let request = body(self.authed(method.clone(), path));
        let raw = self.exchange(method.as_str(), path, request).await?;
        decode(raw, |_| Ok(()))
    }

    /// One page of the list at `path`, whose items the server sends under `key`.
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &'static str,
        query: &impl serde::Serialize,
    ) -> Result<Page<T>, Error> {
        let raw = self
            .exchange("GET", path, self.authed(Method::GET, path).query(query))
            .await?;
        decode(raw, |value| {
            let object = value
                .as_object_mut()
                .ok_or_else(|| "the body is not a JSON object".to_string())?;
            let items = object
                .remove(key)
                .ok_or_else(|| format!("the body has no `{key}` list"))?;
            object.insert("items".to_string(), items);
            Ok(())
        })
    }

    /// Asks an unauthenticated probe endpoint, which answers 503 when the server is up but not
    /// able to serve.
    async fn probe(&self, path: &str) -> Result<bool, Error> {
        let raw = self
            .exchange("GET", path, self.http.get(self.url(path)))
            .await?;
        match raw.status {
            200..=299 => Ok(true),
            503 => Ok(false),
            status => Err(error::api_error(status, &raw.bytes)),
        }
    }
}

/// Turns an error status into [`Error::Api`], else decodes the JSON body once `reshape` has
/// adapted it (lists rename their items key).
fn decode<T: DeserializeOwned>(
    raw: RawResponse,
    reshape: impl FnOnce(&mut serde_json::Value) -> Result<(), String>,
) -> Result<T, Error> {
    let RawResponse {
        status,
        bytes,
        json,
        ..
    } = raw;
    if !(200..300).contains(&status) {
        return Err(error::api_error(status, &bytes));
    }
    let fail = |message: String| Error::Decode {
        status,
        message,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let mut value = json.ok_or_else(|| fail("the body is not JSON".to_string()))?;
    reshape(&mut value).map_err(fail)?;
    serde_json::from_value(value).map_err(|e| fail(e.to_string()))
}

/// Percent-encodes an id for use as one path segment, so an id containing `/` or `?` addresses
/// the resource it names instead of another route.
fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
