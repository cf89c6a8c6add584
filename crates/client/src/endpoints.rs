//! One typed method per operation of the API, plus streams that page through the lists.

use std::collections::VecDeque;
use std::future::Future;

use futures_util::{Stream, stream};
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use reqwest::multipart::{Form, Part};

use crate::inputs::Cursor;
use crate::models::{BillingGroupEnvelope, BusinessUnitEnvelope, WebhookEndpointEnvelope};
use crate::{
    ApiKey, ApiKeyCreated, ApiKeyRevoked, Asset, AssetChanges, AssetDeleted, AssetQuery,
    AssetWrite, BillingGroup, BillingGroupQuery, BillingGroupWrite, BoughtOut, BusinessUnit,
    BuyoutQuote, BuyoutRequest, Client, ContractGenerated, Customer, CustomerChanges,
    CustomerDeleted, CustomerQuery, CustomerWrite, EarlyReturnQuote, EarlyReturnRequest, Error,
    Event, EventQuery, Extended, Extension, File, FileContent, FileDeleted, FileQuery, FileUpload,
    FileUrl, FileUrlRequest, FileWrite, GenerateContract, ImportResult, InvoiceIssued, ListQuery,
    MarkFailed, MarkPaid, NewApiKey, NewOrder, NewProduct, NewRental, Order, OrderQuery,
    OrderWrite, Page, Payment, PaymentQuery, PaymentWrite, Product, ProductDeleted, ProductQuery,
    ProductWrite, Rental, RentalCancellation, RentalCancelled, RentalCreated, RentalExport,
    RentalExportRequest, RentalNotesSaved, RentalQuery, Replaced, Replacement, ReturnedEarly,
    UpgradeRequest, Upgraded, Variant, VariantQuery, VariantStatusResult, WebhookAttempt,
    WebhookEndpoint, WebhookEndpointCreated, WebhookEndpointWrite, WebhookSecretRotated, segment,
};

impl Client {
    // ---- products ------------------------------------------------------------------------------

    /// Creates a product, or updates the one with the same SKU (the server upserts); see
    /// `operation` in the result for which happened.
    pub async fn create_product(&self, input: &NewProduct) -> Result<ProductWrite, Error> {
        self.call(Method::POST, "/v1/products", |r| r.json(input))
            .await
    }

    /// One product with all its variants.
    pub async fn get_product(&self, product_id: &str) -> Result<Product, Error> {
        self.call(
            Method::GET,
            &format!("/v1/products/{}", segment(product_id)),
            |r| r,
        )
        .await
    }

    /// Changes the fields `input` sets; variants it names are updated or added, others kept.
    pub async fn update_product(
        &self,
        product_id: &str,
        input: &NewProduct,
    ) -> Result<ProductWrite, Error> {
        self.call(
            Method::PUT,
            &format!("/v1/products/{}", segment(product_id)),
            |r| r.json(input),
        )
        .await
    }

    /// Discontinues a product and deactivates its variants; nothing is erased.
    pub async fn delete_product(&self, product_id: &str) -> Result<ProductDeleted, Error> {
        self.call(
            Method::DELETE,
            &format!("/v1/products/{}", segment(product_id)),
            |r| r,
        )
        .await
    }

    /// One page of products (without their variants; see `variant_count`).
    pub async fn list_products(&self, query: &ProductQuery) -> Result<Page<Product>, Error> {
        self.list("/v1/products", "products", query).await
    }

    /// Every product matching `query`, fetching further pages as the stream is read.
    pub fn products(
        &self,
        query: ProductQuery,
    ) -> impl Stream<Item = Result<Product, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_products(&q).await })
    }

    /// One page of variants across all products.
    pub async fn list_variants(&self, query: &VariantQuery) -> Result<Page<Variant>, Error> {
        self.list("/v1/products/variants", "variants", query).await
    }

    /// Every variant matching `query`, fetching further pages as the stream is read.
    pub fn variants(
        &self,
        query: VariantQuery,
    ) -> impl Stream<Item = Result<Variant, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_variants(&q).await })
    }

    /// Activates (`active`) or deactivates (`inactive`) a variant; inactive ones cannot be ordered.
    pub async fn set_variant_status(
        &self,
        variant_id: &str,
        status: &str,
    ) -> Result<VariantStatusResult, Error> {
        let path = format!("/v1/products/variants/{}/status", segment(variant_id));
        self.call(Method::PATCH, &path, |r| {
            r.json(&serde_json::json!({ "status": status }))
        })
        .await
    }

    /// Imports products from CSV text sent as a `text/csv` body. Bad rows are reported in the
    /// result, not as an error; the good rows are kept.
    pub async fn import_products_csv(&self, csv: &str) -> Result<ImportResult, Error> {
        self.call(Method::POST, "/v1/products/csv", |r| {
            r.header(CONTENT_TYPE, "text/csv").body(csv.to_owned())
        })
        .await
    }

    /// Imports a CSV file as a browser upload form would send it (`multipart/form-data`).
    pub async fn import_products_csv_file(
        &self,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<ImportResult, Error> {
        let part = Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("text/csv")?;
        let form = Form::new().part("csvFile", part);
        self.call(Method::POST, "/v1/products/csv", |r| r.multipart(form))
            .await
    }

    // ---- orders --------------------------------------------------------------------------------

    /// Places an order, pricing each line from its variant. Repeating the same order (same
    /// email, same lines) within the business unit's idempotency window returns the first order
    /// instead of a second one; use [`Client::create_order_status`] to tell the two apart.
    pub async fn create_order(&self, input: &NewOrder) -> Result<OrderWrite, Error> {
        self.create_order_status(input)
            .await
            .map(|(_, written)| written)
    }

    /// Like [`Client::create_order`], with the status: 201 for a new order, 200 when an
    /// identical recent order was returned instead.
    pub async fn create_order_status(&self, input: &NewOrder) -> Result<(u16, OrderWrite), Error> {
        let path = "/v1/orders";
        let request = self.authed(Method::POST, path).json(input);
        let raw = self.exchange("POST", path, request).await?;
        let status = raw.status;
        crate::decode(raw, |_| Ok(())).map(|written| (status, written))
    }

    /// One order with its lines and totals.
    pub async fn get_order(&self, order_id: &str) -> Result<Order, Error> {
        self.call(
            Method::GET,
            &format!("/v1/orders/{}", segment(order_id)),
            |r| r,
        )
        .await
    }

    /// One page of orders.
    pub async fn list_orders(&self, query: &OrderQuery) -> Result<Page<Order>, Error> {
        self.list("/v1/orders", "orders", query).await
    }

    /// Every order matching `query`, fetching further pages as the stream is read.
    pub fn orders(
        &self,
        query: OrderQuery,
    ) -> impl Stream<Item = Result<Order, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_orders(&q).await })
    }

    /// Replaces the order's notes as a whole (at most 5000 characters).
    pub async fn update_order_notes(
        &self,
        order_id: &str,
        notes: &str,
    ) -> Result<OrderWrite, Error> {
        let path = format!("/v1/orders/{}/notes", segment(order_id));
        self.call(Method::PATCH, &path, |r| {
            r.json(&serde_json::json!({ "notes": notes }))
        })
        .await
    }

    /// Confirms a pending order; any other status is refused with `ORDER_NOT_CONFIRMABLE`.
    pub async fn confirm_order(&self, order_id: &str) -> Result<OrderWrite, Error> {
        let path = format!("/v1/orders/{}/confirm", segment(order_id));
        self.call(Method::POST, &path, |r| r).await
    }

    /// Cancels a pending or confirmed order that has no rentals yet, keeping `reason` (at most
    /// 1000 characters) on the order. Refused with `ORDER_NOT_CANCELLABLE` or
    /// `ALREADY_CANCELLED`.
    pub async fn cancel_order(
        &self,
        order_id: &str,
        reason: Option<&str>,
    ) -> Result<OrderWrite, Error> {
        let path = format!("/v1/orders/{}/cancel", segment(order_id));
        let body = match reason {
            Some(reason) => serde_json::json!({ "reason": reason }),
            None => serde_json::json!({}),
        };
        self.call(Method::POST, &path, |r| r.json(&body)).await
    }

    // ---- customers -----------------------------------------------------------------------------

    /// Creates a customer without placing an order. An email already on file is refused with
    /// 409 `DUPLICATE_EMAIL`; placing an order finds or creates the customer on its own.
    pub async fn create_customer(&self, input: &CustomerChanges) -> Result<CustomerWrite, Error> {
        self.call(Method::POST, "/v1/customers", |r| r.json(input))
            .await
    }

    /// One customer with its current figures (orders, rentals, revenue).
    pub async fn get_customer(&self, customer_id: &str) -> Result<Customer, Error> {
        self.call(
            Method::GET,
            &format!("/v1/customers/{}", segment(customer_id)),
            |r| r,
        )
        .await
    }

    /// One page of customers.
    pub async fn list_customers(&self, query: &CustomerQuery) -> Result<Page<Customer>, Error> {
        self.list("/v1/customers", "customers", query).await
    }

    /// Every customer matching `query`, fetching further pages as the stream is read.
    pub fn customers(
        &self,
        query: CustomerQuery,
    ) -> impl Stream<Item = Result<Customer, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_customers(&q).await })
    }

    /// Changes the fields `changes` sets; the others keep their values. Setting `status` to
    /// `active` reactivates a deleted customer.
    pub async fn update_customer(
        &self,
        customer_id: &str,
        changes: &CustomerChanges,
    ) -> Result<CustomerWrite, Error> {
        self.call(
            Method::PUT,
            &format!("/v1/customers/{}", segment(customer_id)),
            |r| r.json(changes),
        )
        .await
    }

    /// Deactivates a customer; nothing is erased and an update can reactivate it. Refused
    /// while it has active rentals (`CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS`) or open orders
    /// (`CUSTOMER_HAS_PENDING_ORDERS`).
    pub async fn delete_customer(&self, customer_id: &str) -> Result<CustomerDeleted, Error> {
        self.call(
            Method::DELETE,
            &format!("/v1/customers/{}", segment(customer_id)),
            |r| r,
        )
        .await
    }

    // ---- assets --------------------------------------------------------------------------------

    /// Registers a unit of the variant `changes.sku` under its serial number.
    pub async fn create_asset(&self, input: &AssetChanges) -> Result<AssetWrite, Error> {
        self.call(Method::POST, "/v1/assets", |r| r.json(input))
            .await
    }

    /// One asset by serial number; serials with `/` or spaces are encoded for the path.
    pub async fn get_asset(&self, serial_number: &str) -> Result<Asset, Error> {
        self.call(
            Method::GET,
            &format!("/v1/assets/{}", segment(serial_number)),
            |r| r,
        )
        .await
    }

    /// One page of assets.
    pub async fn list_assets(&self, query: &AssetQuery) -> Result<Page<Asset>, Error> {
        self.list("/v1/assets", "assets", query).await
    }

    /// Every asset matching `query`, fetching further pages as the stream is read.
    pub fn assets(
        &self,
        query: AssetQuery,
    ) -> impl Stream<Item = Result<Asset, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_assets(&q).await })
    }

    /// Changes the fields `changes` sets.
    pub async fn update_asset(
        &self,
        serial_number: &str,
        changes: &AssetChanges,
    ) -> Result<AssetWrite, Error> {
        self.call(
            Method::PUT,
            &format!("/v1/assets/{}", segment(serial_number)),
            |r| r.json(changes),
        )
        .await
    }

    /// Retires an asset: it becomes `unavailable` with reason `retired`.
    pub async fn delete_asset(&self, serial_number: &str) -> Result<AssetDeleted, Error> {
        self.call(
            Method::DELETE,
            &format!("/v1/assets/{}", segment(serial_number)),
            |r| r,
        )
        .await
    }

    // ---- rentals (`/v1/subscriptions`) ---------------------------------------------------------

    /// Starts a rental for one unit of a confirmed order with an available asset of a SKU the
    /// order has a line for (201). The asset is rented out, the order moves to `partial` or
    /// `fulfilled`, and the whole payment schedule is created and returned.
    pub async fn create_rental(&self, input: &NewRental) -> Result<RentalCreated, Error> {
        self.call(Method::POST, "/v1/subscriptions", |r| r.json(input))
            .await
    }

    /// One rental, with its figures (collected, profit, break-even) as of now.
    pub async fn get_rental(&self, rental_id: &str) -> Result<Rental, Error> {
        self.call(
            Method::GET,
            &format!("/v1/subscriptions/{}", segment(rental_id)),
            |r| r,
        )
        .await
    }

    /// One page of rentals.
    pub async fn list_rentals(&self, query: &RentalQuery) -> Result<Page<Rental>, Error> {
        self.list("/v1/subscriptions", "rentals", query).await
    }

    /// Every rental matching `query`, fetching further pages as the stream is read.
    pub fn rentals(
        &self,
        query: RentalQuery,
    ) -> impl Stream<Item = Result<Rental, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_rentals(&q).await })
    }

    /// Replaces the rental's notes as a whole (at most 5000 characters). Works whatever the
    /// rental's status.
    pub async fn update_rental_notes(
        &self,
        rental_id: &str,
        notes: &str,
    ) -> Result<RentalNotesSaved, Error> {
        let path = format!("/v1/subscriptions/{}/notes", segment(rental_id));
        self.call(Method::PATCH, &path, |r| {
            r.json(&serde_json::json!({ "notes": notes }))
        })
        .await
    }

    /// Lengthens an active rental; the added months get payments, and a new monthly amount
    /// also reprices the payments not yet due. Other statuses are refused with
    /// `SUBSCRIPTION_NOT_ACTIVE`.
    pub async fn extend_rental(
        &self,
        rental_id: &str,
        input: &Extension,
    ) -> Result<Extended, Error> {
        let path = format!("/v1/subscriptions/{}/extend", segment(rental_id));
        self.call(Method::POST, &path, |r| r.json(input)).await
    }

    /// What buying the active rental out would cost today; changes nothing. Needs only read
    /// permission, so it suits showing a price before asking the customer.
    pub async fn calculate_buyout(&self, rental_id: &str) -> Result<BuyoutQuote, Error> {
        self.call(Method::POST, "/v1/subscriptions/calculate-buyout", |r| {
            r.json(&serde_json::json!({ "rentalId": rental_id }))
        })
        .await
    }

    /// The customer buys the device: the rental ends (`ended_buyout`), payments due after today
    /// are cancelled, one buyout payment is due today and the asset is sold. The price is
    /// today's quote unless `input` sets one.
    pub async fn buyout_rental(
        &self,
        rental_id: &str,
        input: &BuyoutRequest,
    ) -> Result<BoughtOut, Error> {
        let path = format!("/v1/subscriptions/{}/buyout", segment(rental_id));
        self.call(Method::POST, &path, |r| r.json(input)).await
    }

    /// The fee for returning the active rental's device today; changes nothing. Needs only read
    /// permission.
    pub async fn calculate_early_return_fee(
        &self,
        rental_id: &str,
    ) -> Result<EarlyReturnQuote, Error> {
        self.call(
            Method::POST,
            "/v1/subscriptions/calculate-early-return-fee",
            |r| r.json(&serde_json::json!({ "rentalId": rental_id })),
        )
        .await
    }

    /// The device comes back before the contract ends: the rental ends
    /// (`ended_early_return`), payments due after today are cancelled, a fee payment is due
    /// today when the fee is above zero, and the asset is returned. The fee is today's quote
    /// unless `input` sets or waives it.
    pub async fn early_return(
        &self,
        rental_id: &str,
        input: &EarlyReturnRequest,
    ) -> Result<ReturnedEarly, Error> {
        let path = format!("/v1/subscriptions/{}/early-return", segment(rental_id));
        self.call(Method::POST, &path, |r| r.json(input)).await
    }

    /// Upgrades in one step: this rental ends (`ended_upgrade`) and a new rental on the new
    /// device starts, with an `upgrade` order linking them.
    pub async fn upgrade_rental(
        &self,
        rental_id: &str,
        input: &UpgradeRequest,
    ) -> Result<Upgraded, Error> {
        let path = format!("/v1/subscriptions/{}/upgrade", segment(rental_id));
        self.call(Method::POST, &path, |r| r.json(input)).await
    }

    /// Swaps the device of an active rental for another available unit of the same SKU; the
    /// rental, its price and its payments stay. The old device becomes unavailable with the
    /// reason. Refused with `ASSET_NOT_AVAILABLE` or `SKU_MISMATCH`.
    pub async fn replace_device(
        &self,
        rental_id: &str,
        input: &Replacement,
    ) -> Result<Replaced, Error> {
        let path = format!("/v1/subscriptions/{}/replace", segment(rental_id));
        self.call(Method::POST, &path, |r| r.json(input)).await
    }

    /// Cancels an active rental: payments due after today are cancelled (paid ones stay) and
    /// the asset is returned. Other statuses are refused with `SUBSCRIPTION_NOT_ACTIVE`.
    pub async fn cancel_rental(
        &self,
        rental_id: &str,
        input: &RentalCancellation,
    ) -> Result<RentalCancelled, Error> {
        let path = format!("/v1/subscriptions/{}/cancel", segment(rental_id));
        self.call(Method::POST, &path, |r| r.json(input)).await
    }

    // ---- payments ------------------------------------------------------------------------------

    /// One payment, wrapped like the answers to its changes (with no `message`).
    pub async fn get_payment(&self, payment_id: &str) -> Result<PaymentWrite, Error> {
        self.call(
            Method::GET,
            &format!("/v1/payments/{}", segment(payment_id)),
            |r| r,
        )
        .await
    }

    /// One page of payments.
    pub async fn list_payments(&self, query: &PaymentQuery) -> Result<Page<Payment>, Error> {
        self.list("/v1/payments", "payments", query).await
    }

    /// Every payment matching `query`, fetching further pages as the stream is read.
    pub fn payments(
        &self,
        query: PaymentQuery,
    ) -> impl Stream<Item = Result<Payment, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_payments(&q).await })
    }

    /// Records a payment received outside a payment provider (transfer, cash). Refused with
    /// `ALREADY_PAID` or `PAYMENT_CANCELLED`.
    pub async fn mark_payment_paid(
        &self,
        payment_id: &str,
        input: &MarkPaid,
    ) -> Result<PaymentWrite, Error> {
        let path = format!("/v1/payments/{}/mark-paid", segment(payment_id));
        self.call(Method::POST, &path, |r| r.json(input)).await
    }

    /// Stops collecting a payment, keeping `reason` (required, at most 1000 characters) on it.
    /// Refused with `ALREADY_PAID`, `PAYMENT_CANCELLED` or, while a provider is collecting it,
    /// `PAYMENT_PROCESSING`.
    pub async fn cancel_payment(
        &self,
        payment_id: &str,
        reason: &str,
    ) -> Result<PaymentWrite, Error> {
        let path = format!("/v1/payments/{}/cancel", segment(payment_id));
        self.call(Method::POST, &path, |r| {
            r.json(&serde_json::json!({ "reason": reason }))
        })
        .await
    }

    /// Records that collecting a payment failed, so dunning can follow up. Refused with
    /// `ALREADY_PAID`, `PAYMENT_CANCELLED`, or `INVALID_STATUS_TRANSITION` for a payment that
    /// has already failed.
    pub async fn mark_payment_failed(
        &self,
        payment_id: &str,
        input: &MarkFailed,
    ) -> Result<PaymentWrite, Error> {
        let path = format!("/v1/payments/{}/mark-failed", segment(payment_id));
        self.call(Method::POST, &path, |r| r.json(input)).await
    }

    /// Issues the invoice of a payment (a PDF file of type `invoice` on its order) with the
    /// business unit's next invoice number; a payment invoiced before gets the same invoice
    /// back. Returns the status too: 201 for a new invoice, 200 for the existing one. Refused
    /// with `PAYMENT_CANCELLED` for a cancelled payment.
    pub async fn issue_invoice(&self, payment_id: &str) -> Result<(u16, InvoiceIssued), Error> {
        let path = format!("/v1/payments/{}/invoice", segment(payment_id));
        let request = self.authed(Method::POST, &path);
        let raw = self.exchange("POST", &path, request).await?;
        let status = raw.status;
        crate::decode(raw, |_| Ok(())).map(|issued| (status, issued))
    }

    // ---- API keys ------------------------------------------------------------------------------

    /// One page of the organization's keys, newest first. Secrets are never included.
    pub async fn list_api_keys(&self, query: &ListQuery) -> Result<Page<ApiKey>, Error> {
        self.list("/v1/api-keys", "apiKeys", query).await
    }

    /// Every key of the organization, fetching further pages as the stream is read.
    pub fn api_keys(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<ApiKey, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_api_keys(&q).await })
    }

    /// Creates a key; the result's `secret` is the only time its token is revealed.
    pub async fn create_api_key(&self, input: &NewApiKey) -> Result<ApiKeyCreated, Error> {
        self.call(Method::POST, "/v1/api-keys", |r| r.json(input))
            .await
    }

    /// Revokes a key with immediate effect; revoking it again is harmless.
    pub async fn revoke_api_key(&self, key_id: &str) -> Result<ApiKeyRevoked, Error> {
        self.call(
            Method::DELETE,
            &format!("/v1/api-keys/{}", segment(key_id)),
            |r| r,
        )
        .await
    }

    // ---- business unit -------------------------------------------------------------------------

    /// The business unit named by the client's tenant id, with its settings.
    pub async fn get_business_unit(&self) -> Result<BusinessUnit, Error> {
        let envelope: BusinessUnitEnvelope = self
            .call(Method::GET, "/v1/business-units/current", |r| r)
            .await?;
        Ok(envelope.business_unit)
    }

    /// Changes the business unit. `changes` holds only what changes; a `settings` object is
    /// merged into the current settings rather than replacing them.
    pub async fn update_business_unit(
        &self,
        changes: &serde_json::Value,
    ) -> Result<BusinessUnit, Error> {
        let envelope: BusinessUnitEnvelope = self
            .call(Method::PATCH, "/v1/business-units/current", |r| {
                r.json(changes)
            })
            .await?;
        Ok(envelope.business_unit)
    }

    // ---- events --------------------------------------------------------------------------------

    /// One page of the change log, newest first unless `sort_dir` says otherwise.
    pub async fn list_events(&self, query: &EventQuery) -> Result<Page<Event>, Error> {
        self.list("/v1/events", "events", query).await
    }

    /// Every event matching `query`, fetching further pages as the stream is read.
    pub fn events(
        &self,
        query: EventQuery,
    ) -> impl Stream<Item = Result<Event, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_events(&q).await })
    }

    // ---- billing groups ------------------------------------------------------------------------

    /// Groups a customer's active rentals; their unpaid months are billed as one payment a
    /// month on the billing day.
    pub async fn create_billing_group(
        &self,
        input: &BillingGroupWrite,
    ) -> Result<BillingGroup, Error> {
        let envelope: BillingGroupEnvelope = self
            .call(Method::POST, "/v1/billing-groups", |r| r.json(input))
            .await?;
        Ok(envelope.billing_group)
    }

    /// One page of billing groups.
    pub async fn list_billing_groups(
        &self,
        query: &BillingGroupQuery,
    ) -> Result<Page<BillingGroup>, Error> {
        self.list("/v1/billing-groups", "billingGroups", query)
            .await
    }

    pub async fn get_billing_group(&self, group_id: &str) -> Result<BillingGroup, Error> {
        let envelope: BillingGroupEnvelope = self
            .call(
                Method::GET,
                &format!("/v1/billing-groups/{}", segment(group_id)),
                |r| r,
            )
            .await?;
        Ok(envelope.billing_group)
    }

    /// Changes a group; `rental_ids` replaces the membership. Only months not yet issued and
    /// unpaid are billed anew.
    pub async fn update_billing_group(
        &self,
        group_id: &str,
        changes: &BillingGroupWrite,
    ) -> Result<BillingGroup, Error> {
        let envelope: BillingGroupEnvelope = self
            .call(
                Method::PATCH,
                &format!("/v1/billing-groups/{}", segment(group_id)),
                |r| r.json(changes),
            )
            .await?;
        Ok(envelope.billing_group)
    }

    /// Deletes a group; its members pay on their own again.
    pub async fn delete_billing_group(&self, group_id: &str) -> Result<(), Error> {
        let _: serde_json::Value = self
            .call(
                Method::DELETE,
                &format!("/v1/billing-groups/{}", segment(group_id)),
                |r| r,
            )
            .await?;
        Ok(())
    }

    // ---- files ---------------------------------------------------------------------------------

    /// Uploads a file for an order (201), as a browser form would (`multipart/form-data`).
    pub async fn upload_file(&self, upload: &FileUpload) -> Result<FileWrite, Error> {
        let mut form = Form::new();
        if let Some(order_id) = &upload.order_id {
            form = form.text("orderId", order_id.clone());
        }
        if let Some(file_type) = &upload.file_type {
            form = form.text("type", file_type.clone());
        }
        if let Some(metadata) = &upload.metadata {
            form = form.text("metadata", metadata.to_string());
        }
        let mut part = Part::bytes(upload.bytes.clone());
        if let Some(name) = &upload.filename {
            part = part.file_name(name.clone());
        }
        if let Some(content_type) = &upload.content_type {
            part = part.mime_str(content_type)?;
        }
        form = form.part("file", part);
        self.call(Method::POST, "/v1/files", |r| r.multipart(form))
            .await
    }

    /// One page of files.
    pub async fn list_files(&self, query: &FileQuery) -> Result<Page<File>, Error> {
        self.list("/v1/files", "files", query).await
    }

    /// Every file matching `query`, fetching further pages as the stream is read.
    pub fn files(&self, query: FileQuery) -> impl Stream<Item = Result<File, Error>> + Unpin + '_ {
        paginate(query, move |q| async move { self.list_files(&q).await })
    }

    /// A file's description (not its contents).
    pub async fn get_file(&self, file_id: &str) -> Result<File, Error> {
        self.call(
            Method::GET,
            &format!("/v1/files/{}", segment(file_id)),
            |r| r,
        )
        .await
    }

    /// Deletes a file; `delete_from_storage: Some(false)` keeps its contents in the file store
    /// (the server's default removes them).
    pub async fn delete_file(
        &self,
        file_id: &str,
        delete_from_storage: Option<bool>,
    ) -> Result<FileDeleted, Error> {
        let body = match delete_from_storage {
            Some(flag) => serde_json::json!({ "deleteFromStorage": flag }),
            None => serde_json::json!({}),
        };
        self.call(
            Method::DELETE,
            &format!("/v1/files/{}", segment(file_id)),
            |r| r.json(&body),
        )
        .await
    }

    /// A signed link to a file's contents that works without credentials until it expires.
    pub async fn file_url(&self, request: &FileUrlRequest) -> Result<FileUrl, Error> {
        self.call(Method::POST, "/v1/files/url", |r| r.json(request))
            .await
    }

    /// Renders an order's contract as a PDF and stores it as a `contract` file of the order
    /// (201).
    pub async fn generate_contract(
        &self,
        request: &GenerateContract,
    ) -> Result<ContractGenerated, Error> {
        self.call(Method::POST, "/v1/files/contracts/generate", |r| {
            r.json(request)
        })
        .await
    }

    /// Fetches what a signed link points at, sending no credentials (none are needed). A
    /// refused link is an [`Error::Api`] like any other refusal.
    pub async fn fetch_file(&self, url: &str) -> Result<FileContent, Error> {
        let response = self.http.get(url).send().await?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (content_type, content_disposition) =
            (header("content-type"), header("content-disposition"));
        let bytes = response.bytes().await?.to_vec();
        if !(200..300).contains(&status) {
            return Err(crate::error::api_error(status, &bytes));
        }
        Ok(FileContent {
            content_type,
            content_disposition,
            bytes,
        })
    }

    // ---- exports -------------------------------------------------------------------------------

    /// Exports the rentals `request` selects as CSV (inline and behind a signed link).
    pub async fn export_rentals(
        &self,
        request: &RentalExportRequest,
    ) -> Result<RentalExport, Error> {
        self.call(Method::POST, "/v1/exports/rentals", |r| r.json(request))
            .await
    }

    // ---- webhooks ------------------------------------------------------------------------------

    /// Registers a webhook endpoint; the answer holds its signing secret, shown this once.
    pub async fn create_webhook_endpoint(
        &self,
        input: &WebhookEndpointWrite,
    ) -> Result<WebhookEndpointCreated, Error> {
        self.call(Method::POST, "/v1/webhook-endpoints", |r| r.json(input))
            .await
    }

    /// One page of the business unit's webhook endpoints.
    pub async fn list_webhook_endpoints(
        &self,
        query: &ListQuery,
    ) -> Result<Page<WebhookEndpoint>, Error> {
        self.list("/v1/webhook-endpoints", "endpoints", query).await
    }

    pub async fn get_webhook_endpoint(&self, endpoint_id: &str) -> Result<WebhookEndpoint, Error> {
        let envelope: WebhookEndpointEnvelope = self
            .call(
                Method::GET,
                &format!("/v1/webhook-endpoints/{}", segment(endpoint_id)),
                |r| r,
            )
            .await?;
        Ok(envelope.endpoint)
    }

    /// Changes an endpoint; fields left `None` stay as they are. Enabling a disabled endpoint
    /// clears why it was disabled.
    pub async fn update_webhook_endpoint(
        &self,
        endpoint_id: &str,
        changes: &WebhookEndpointWrite,
    ) -> Result<WebhookEndpoint, Error> {
        let envelope: WebhookEndpointEnvelope = self
            .call(
                Method::PATCH,
                &format!("/v1/webhook-endpoints/{}", segment(endpoint_id)),
                |r| r.json(changes),
            )
            .await?;
        Ok(envelope.endpoint)
    }

    pub async fn delete_webhook_endpoint(&self, endpoint_id: &str) -> Result<(), Error> {
        let _: serde_json::Value = self
            .call(
                Method::DELETE,
                &format!("/v1/webhook-endpoints/{}", segment(endpoint_id)),
                |r| r,
            )
            .await?;
        Ok(())
    }

    /// A new signing secret; the old one keeps signing beside it until the returned time.
    pub async fn rotate_webhook_secret(
        &self,
        endpoint_id: &str,
    ) -> Result<WebhookSecretRotated, Error> {
        self.call(
            Method::POST,
            &format!(
                "/v1/webhook-endpoints/{}/rotate-secret",
                segment(endpoint_id)
            ),
            |r| r.json(&serde_json::json!({})),
        )
        .await
    }

    /// Sends a `ping` event to the endpoint; returns the event's id.
    pub async fn test_webhook_endpoint(&self, endpoint_id: &str) -> Result<String, Error> {
        let answer: serde_json::Value = self
            .call(
                Method::POST,
                &format!("/v1/webhook-endpoints/{}/test", segment(endpoint_id)),
                |r| r.json(&serde_json::json!({})),
            )
            .await?;
        Ok(answer["eventId"].as_str().unwrap_or_default().to_string())
    }

    /// Every delivery attempt to the endpoint, newest first.
    pub async fn list_webhook_deliveries(
        &self,
        endpoint_id: &str,
        query: &ListQuery,
    ) -> Result<Page<WebhookAttempt>, Error> {
        self.list(
            &format!("/v1/webhook-endpoints/{}/deliveries", segment(endpoint_id)),
            "deliveries",
            query,
        )
        .await
    }

    /// Sends an event again under its original `webhook-id`: to one endpoint, or to every
    /// subscribed one. Returns how many deliveries were queued.
    pub async fn replay_event(
        &self,
        event_id: &str,
        endpoint_id: Option<&str>,
    ) -> Result<u64, Error> {
        let answer: serde_json::Value = self
            .call(
                Method::POST,
                &format!("/v1/events/{}/replay", segment(event_id)),
                |r| r.json(&serde_json::json!({ "endpointId": endpoint_id })),
            )
            .await?;
        Ok(answer["queued"].as_u64().unwrap_or_default())
    }

    // ---- operations (no credentials sent) ------------------------------------------------------

    /// Whether the process is up. An error means it could not be reached at all.
    pub async fn health(&self) -> Result<bool, Error> {
        self.probe("/healthz").await
    }

    /// Whether the server can serve requests (its database answers): `false` on 503.
    pub async fn ready(&self) -> Result<bool, Error> {
        self.probe("/readyz").await
    }

    /// The server's own OpenAPI document.
    pub async fn openapi(&self) -> Result<serde_json::Value, Error> {
        let path = "/openapi.json";
        let raw = self
            .exchange("GET", path, self.http.get(self.url(path)))
            .await?;
        crate::decode(raw, |_| Ok(()))
    }
}

/// Reads pages with `fetch` while the server says there are more, moving the cursor to each
/// page's `nextCursor`. Ends after yielding the first error, since a failed page leaves no cursor
/// to continue from. Each fetch is boxed so the stream is `Unpin` and can be polled without
/// pinning it first.
fn paginate<'a, Q, T, F, Fut>(
    query: Q,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Unpin + 'a
where
    Q: Cursor + 'a,
    T: 'a,
    F: Fn(Q) -> Fut + Copy + 'a,
    Fut: Future<Output = Result<Page<T>, Error>> + 'a,
{
    stream::unfold(
        (Some(query), VecDeque::new()),
        move |(mut next, mut buffer): (Option<Q>, VecDeque<T>)| {
            Box::pin(async move {
                loop {
                    if let Some(item) = buffer.pop_front() {
                        return Some((Ok(item), (next, buffer)));
                    }
                    let query = next.take()?;
                    match fetch(query.clone()).await {
                        Err(e) => return Some((Err(e), (None, buffer))),
                        Ok(page) => {
                            // A page claiming more without a cursor would otherwise restart the list forever.
                            if let (true, Some(cursor)) = (page.has_more, page.next_cursor) {
                                let mut following = query;
                                following.set_start_after(cursor);
                                next = Some(following);
                            }
                            buffer = page.items.into();
                        }
                    }
                }
            })
        },
    )
}
