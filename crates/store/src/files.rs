//! Files of a business unit: contracts, invoices, documents and attachments, each belonging to
//! one order.
//!
//! The bytes go to the [`BlobStore`], the description to the `files` table; a file exists for
//! readers once its row is committed. So contents are written first and removed if the row
//! then fails, and on deletion the row goes in the same transaction that waits for the
//! contents' removal: neither half-finished write nor half-finished delete is ever visible.

use bytes::Bytes;
use flexportal_domain::files::FILE_TYPES;
use flexportal_domain::ids::IdKind;
use flexportal_domain::time::now_micros;

use crate::blobs::{BlobStore, Unclaimed};
use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, Filter, ListSpec, Page, SortColumn, SortKind};
use crate::{Result, StoreError, Wire, args};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct File {
        pub tenant_id: String,
        pub file_id: String,
        pub order_id: String,
        pub customer_id: String,
        pub file_type: String,
        /// `uploaded` or `generated`.
        pub category: String,
        pub filename: String,
        pub original_filename: Option<String>,
        pub content_type: String,
        pub file_size: i64,
        /// The object's key in the file store.
        pub storage_path: String,
        /// The API key (or user) that stored it.
        pub uploaded_by: String,
        /// A JSON object, as given.
        pub metadata: Option<String>,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const FILE_COLUMNS: &str = "tenant_id, file_id, order_id, customer_id, file_type, category, filename, original_filename, content_type, file_size, storage_path, uploaded_by, metadata, created_at, updated_at";

/// Where a file's bytes are kept: under its business unit, named by its id alone, so nothing a
/// client sends ever reaches a path.
pub fn storage_key(tenant_id: &str, file_id: &str) -> String {
    format!("{tenant_id}/{file_id}")
}

/// A file to store. The caller has checked the type and the name; the order is checked here.
pub struct NewFile {
    pub order_id: String,
    /// One of [`FILE_TYPES`].
    pub file_type: String,
    /// `uploaded` or `generated`.
    pub category: &'static str,
    pub filename: String,
    pub original_filename: Option<String>,
    pub content_type: String,
    pub bytes: Bytes,
    pub uploaded_by: String,
    /// A JSON object's text.
    pub metadata: Option<String>,
}

/// A file the server made itself (a contract, an invoice, an export), for [`store_generated`].
pub struct GeneratedFile {
    /// The order it belongs to: every file does (the wire's `orderId` is required).
    pub order_id: String,
    /// One of `contract`, `invoice`, `document`, `attachment`.
    pub file_type: String,
    pub filename: String,
    /// Trusted as given: the server made the bytes.
    pub content_type: String,
    pub bytes: Bytes,
    /// The API key or user on whose behalf it was made.
    pub created_by: String,
    pub metadata: Option<serde_json::Value>,
}

fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code,
        message: message.into(),
    }
}

async fn order_customer(tx: &mut Tx, tenant_id: &str, order_id: &str) -> Result<Option<String>> {
    let row: Option<(String,)> = tx
        .fetch_optional(
            "SELECT customer_id FROM orders WHERE tenant_id = $1 AND order_id = $2",
            args![tenant_id, order_id],
        )
        .await?;
    Ok(row.map(|r| r.0))
}

pub(crate) async fn get_in(tx: &mut Tx, tenant_id: &str, file_id: &str) -> Result<Option<File>> {
    tx.fetch_optional(
        format!("SELECT {FILE_COLUMNS} FROM files WHERE tenant_id = $1 AND file_id = $2"),
        args![tenant_id, file_id],
    )
    .await
}

pub async fn get(db: &Db, tenant_id: &str, file_id: &str) -> Result<Option<File>> {
    db.fetch_optional(
        format!("SELECT {FILE_COLUMNS} FROM files WHERE tenant_id = $1 AND file_id = $2"),
        args![tenant_id, file_id],
    )
    .await
}

async fn record(tx: &mut Tx, file: &File, event_type: &str, wire: &dyn Wire) -> Result<()> {
    events::record(
        tx,
        NewEvent {
            tenant_id: &file.tenant_id,
            event_type,
            resource_type: "file",
            resource_id: &file.file_id,
            data: wire.file(file),
        },
    )
    .await?;
    Ok(())
}

/// Stores a file: its bytes, then its row and a `file.created` event. An unknown order is
/// refused (`ORDER_NOT_FOUND`) before anything is written.
pub async fn create(
    db: &Db,
    blobs: &BlobStore,
    tenant_id: &str,
    new: NewFile,
    wire: &dyn Wire,
) -> Result<File> {
    create_recording(db, blobs, tenant_id, new, None, wire).await
}

/// [`create`], recording `also` (e.g. `contract.generated`) beside `file.created` in the same
/// transaction, so the event exists exactly when the file does.
async fn create_recording(
    db: &Db,
    blobs: &BlobStore,
    tenant_id: &str,
    mut new: NewFile,
    also: Option<&str>,
    wire: &dyn Wire,
) -> Result<File> {
    if !FILE_TYPES.contains(&new.file_type.as_str()) {
        return Err(refused(
            "VALIDATION_ERROR",
            format!("type must be one of: {}", FILE_TYPES.join(", ")),
        ));
    }
    // Checked before the write too, so a bad order never costs an upload to the store.
    let order: Option<(String,)> = db
        .fetch_optional(
            "SELECT order_id FROM orders WHERE tenant_id = $1 AND order_id = $2",
            args![tenant_id, &new.order_id],
        )
        .await?;
    if order.is_none() {
        return Err(order_not_found(&new.order_id));
    }
    let file_id = IdKind::File.generate();
    let key = storage_key(tenant_id, &file_id);
    let bytes = std::mem::take(&mut new.bytes);
    let size = bytes.len() as i64;
    // Armed before the write: a request dropped while writing leaves nothing behind either.
    let unclaimed = Unclaimed::new(blobs, &key);
    if let Err(e) = blobs.put(&key, bytes).await {
        unclaimed.discard().await;
        return Err(e);
    }
    match insert(db, tenant_id, &file_id, size, &new, also, wire).await {
        Ok(file) => {
            unclaimed.claim();
            Ok(file)
        }
        Err(e) => {
            unclaimed.discard().await;
            Err(e)
        }
    }
}

fn order_not_found(order_id: &str) -> StoreError {
    refused(
        "ORDER_NOT_FOUND",
        format!("No order {order_id} in this business unit"),
    )
}

async fn insert(
    db: &Db,
    tenant_id: &str,
    file_id: &str,
    size: i64,
    new: &NewFile,
    also: Option<&str>,
    wire: &dyn Wire,
) -> Result<File> {
    let mut tx = db.begin().await?;
    let file = insert_in(&mut tx, tenant_id, file_id, size, new, wire).await?;
    if let Some(event_type) = also {
        record(&mut tx, &file, event_type, wire).await?;
    }
    tx.commit().await?;
    Ok(file)
}

/// Writes a file's row and its `file.created` event in `tx`; the caller has stored the bytes
/// under [`storage_key`] and commits.
pub(crate) async fn insert_in(
    tx: &mut Tx,
    tenant_id: &str,
    file_id: &str,
    size: i64,
    new: &NewFile,
    wire: &dyn Wire,
) -> Result<File> {
    let customer_id = order_customer(tx, tenant_id, &new.order_id)
        .await?
        .ok_or_else(|| order_not_found(&new.order_id))?;
    let now = now_micros();
    tx.execute(
        format!("INSERT INTO files ({FILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)"),
        args![
            tenant_id,
            file_id,
            &new.order_id,
            customer_id,
            &new.file_type,
            new.category,
            &new.filename,
            new.original_filename.clone(),
            &new.content_type,
            size,
            storage_key(tenant_id, file_id),
            &new.uploaded_by,
            new.metadata.clone(),
            now
        ],
    )
    .await?;
    let file = get_in(tx, tenant_id, file_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(tx, &file, "file.created", wire).await?;
    Ok(file)
}

/// Stores a file the server generated (a contract, an invoice, an export) for `order_id`, as
/// [`create`] does an upload: category `generated`, the content type as given.
pub async fn store_generated(
    db: &Db,
    blobs: &BlobStore,
    tenant_id: &str,
    file: GeneratedFile,
    wire: &dyn Wire,
) -> Result<File> {
    store_generated_recording(db, blobs, tenant_id, file, None, wire).await
}

/// [`store_generated`], also recording the event `also` names (such as `contract.generated`)
/// for the file, in the transaction that stores its row.
pub async fn store_generated_recording(
    db: &Db,
    blobs: &BlobStore,
    tenant_id: &str,
    file: GeneratedFile,
    also: Option<&str>,
    wire: &dyn Wire,
) -> Result<File> {
    let filename = flexportal_domain::files::safe_filename(&file.filename);
    let metadata = match file.metadata {
        Some(value) if value.is_object() => Some(serde_json::to_string(&value)?),
        Some(_) => return Err(refused("VALIDATION_ERROR", "metadata must be an object")),
        None => None,
    };
    create_recording(
        db,
        blobs,
        tenant_id,
        NewFile {
            order_id: file.order_id,
            file_type: file.file_type,
            category: "generated",
            original_filename: None,
            filename,
            content_type: file.content_type,
            bytes: file.bytes,
            uploaded_by: file.created_by,
            metadata,
        },
        also,
        wire,
    )
    .await
}

/// Deletes a file's row (recording `file.deleted`) and, when `remove_contents`, its bytes. The
/// bytes are removed before the row's removal commits, so a failure to remove them changes
/// nothing and the request can be retried.
pub async fn delete(
    db: &Db,
    blobs: &BlobStore,
    tenant_id: &str,
    file_id: &str,
    remove_contents: bool,
    wire: &dyn Wire,
) -> Result<File> {
    let mut tx = db.begin().await?;
    let file = get_in(&mut tx, tenant_id, file_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    // A concurrent delete that committed first leaves nothing to delete here (PostgreSQL
    // re-checks the row once the first one's lock is released).
    let deleted = tx
        .execute(
            "DELETE FROM files WHERE tenant_id = $1 AND file_id = $2",
            args![tenant_id, file_id],
        )
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    record(&mut tx, &file, "file.deleted", wire).await?;
    if remove_contents {
        blobs.delete(&file.storage_path).await?;
    }
    tx.commit().await?;
    Ok(file)
}

#[derive(Debug, Clone, Default)]
pub struct FileFilters {
    pub order_id: Option<String>,
    pub file_type: Option<String>,
    pub customer_id: Option<String>,
}

pub async fn list(
    db: &Db,
    tenant_id: &str,
    filters: FileFilters,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<File>> {
    let mut conditions = Vec::new();
    for (sql, value) in [
        ("order_id = {}", filters.order_id),
        ("file_type = {}", filters.file_type),
        ("customer_id = {}", filters.customer_id),
    ] {
        if let Some(v) = value {
            conditions.push(Filter::new(sql, v));
        }
    }
    let spec = ListSpec {
        from: "files",
        columns: FILE_COLUMNS,
        tenant_column: "tenant_id",
        id_column: "file_id",
        sort: SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    list::fetch_page(db, tenant_id, &spec).await
}
