//! Organizations, their business units (the tenants) and their API keys.

use flexportal_domain::api_key;
use flexportal_domain::ids::IdKind;
use flexportal_domain::settings::Settings;
use flexportal_domain::time::now_micros;

use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, ListSpec, Page, SortColumn, SortKind};
use crate::{Result, StoreError, args};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Organization {
        pub organization_id: String,
        pub name: String,
        pub tier: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

crate::row! {
    #[derive(Debug, Clone)]
    pub struct BusinessUnit {
        pub tenant_id: String,
        pub organization_id: String,
        pub name: String,
        pub region: String,
        pub currency: String,
        pub timezone: String,
        pub vat_rate_bp: i64,
        pub vat_mode: String,
        pub default_contract_length: i64,
        pub order_number_prefix: String,
        /// The settings document as stored (wire form).
        pub settings: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

impl BusinessUnit {
    pub fn settings(&self) -> Result<Settings> {
        Ok(serde_json::from_str(&self.settings)?)
    }
}

/// What a new business unit is made of; everything already validated.
#[derive(Debug, Clone)]
pub struct NewBusinessUnit {
    pub name: String,
    pub region: String,
    pub currency: String,
    pub timezone: String,
    pub vat_rate_bp: i64,
    pub vat_mode: String,
    pub default_contract_length: i64,
    pub order_number_prefix: String,
    pub settings: Settings,
}

/// The changeable fields of a business unit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct BusinessUnitChanges {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub vat_rate_bp: Option<i64>,
    pub vat_mode: Option<String>,
    pub default_contract_length: Option<i64>,
    pub order_number_prefix: Option<String>,
    pub settings: Option<Settings>,
}

crate::row! {
    #[derive(Debug, Clone)]
    pub struct ApiKey {
        pub key_id: String,
        pub organization_id: String,
        pub name: String,
        pub permissions_json: String,
        pub business_unit_ids_json: Option<String>,
        pub created_by: Option<String>,
        pub created_at: i64,
        pub last_used_at: Option<i64>,
        pub usage_count: i64,
        pub expires_at: Option<i64>,
        pub revoked_at: Option<i64>,
    }
}

impl ApiKey {
    pub fn permissions(&self) -> Vec<String> {
        serde_json::from_str(&self.permissions_json).unwrap_or_default()
    }

    /// `None` means every business unit of the organization.
    pub fn business_unit_ids(&self) -> Option<Vec<String>> {
        self.business_unit_ids_json
            .as_deref()
            .map(|j| serde_json::from_str(j).unwrap_or_default())
    }

    pub fn may_use(&self, tenant_id: &str) -> bool {
        self.business_unit_ids()
            .is_none_or(|ids| ids.iter().any(|id| id == tenant_id))
    }

    pub fn is_usable_at(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub permissions: Vec<String>,
    pub business_unit_ids: Option<Vec<String>>,
    pub expires_at: Option<i64>,
    pub created_by: Option<String>,
}

/// A key as created: the record and its secret, which exists nowhere else.
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: String,
}

const ORG_COLUMNS: &str = "organization_id, name, tier, created_at, updated_at";
const BU_COLUMNS: &str = "tenant_id, organization_id, name, region, currency, timezone, vat_rate_bp, vat_mode, default_contract_length, order_number_prefix, settings, created_at, updated_at";
const KEY_COLUMNS: &str = "key_id, organization_id, name, permissions AS permissions_json, business_unit_ids AS business_unit_ids_json, created_by, created_at, last_used_at, usage_count, expires_at, revoked_at";

pub struct Bootstrapped {
    pub organization: Organization,
    pub business_unit: BusinessUnit,
    pub admin_key: CreatedApiKey,
}

/// Creates an organization with one business unit and an admin key (`*`), atomically.
pub async fn bootstrap_organization(
    db: &Db,
    org_name: &str,
    tier: &str,
    unit: NewBusinessUnit,
    region: &str,
) -> Result<Bootstrapped> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let organization_id = IdKind::Organization.generate();
    tx.execute(
        "INSERT INTO organizations (organization_id, name, tier, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
        args![&organization_id, org_name, tier, now],
    )
    .await?;
    let business_unit = insert_business_unit(&mut tx, &organization_id, unit, now).await?;
    let admin_key = insert_api_key(
        &mut tx,
        &organization_id,
        &business_unit.tenant_id,
        region,
        NewApiKey {
            name: "Admin key".into(),
            permissions: vec!["*".into()],
            business_unit_ids: None,
            expires_at: None,
            created_by: None,
        },
        now,
    )
    .await?;
    let organization = tx
        .fetch_one(
            format!("SELECT {ORG_COLUMNS} FROM organizations WHERE organization_id = $1"),
            args![&organization_id],
        )
        .await?;
    tx.commit().await?;
    Ok(Bootstrapped {
        organization,
        business_unit,
        admin_key,
    })
}

pub async fn count_organizations(db: &Db) -> Result<i64> {
    crate::row! {
        struct Count {
            n: i64,
        }
    }
    let row: Option<Count> = db
        .fetch_optional("SELECT COUNT(*) AS n FROM organizations", vec![])
        .await?;
    Ok(row.map(|c| c.n).unwrap_or(0))
}

pub async fn get_organization(db: &Db, organization_id: &str) -> Result<Option<Organization>> {
    db.fetch_optional(
        format!("SELECT {ORG_COLUMNS} FROM organizations WHERE organization_id = $1"),
        args![organization_id],
    )
    .await
}

pub async fn create_business_unit(
    db: &Db,
    organization_id: &str,
    unit: NewBusinessUnit,
) -> Result<BusinessUnit> {
    let mut tx = db.begin().await?;
    if get_organization_in(&mut tx, organization_id)
        .await?
        .is_none()
    {
        return Err(StoreError::NotFound);
    }
    let created = insert_business_unit(&mut tx, organization_id, unit, now_micros()).await?;
    tx.commit().await?;
    Ok(created)
}

async fn get_organization_in(tx: &mut Tx, organization_id: &str) -> Result<Option<Organization>> {
    tx.fetch_optional(
        format!("SELECT {ORG_COLUMNS} FROM organizations WHERE organization_id = $1"),
        args![organization_id],
    )
    .await
}

async fn insert_business_unit(
    tx: &mut Tx,
    organization_id: &str,
    unit: NewBusinessUnit,
    now: i64,
) -> Result<BusinessUnit> {
    let tenant_id = IdKind::BusinessUnit.generate();
    tx.execute(
        "INSERT INTO business_units (tenant_id, organization_id, name, region, currency, timezone, vat_rate_bp, vat_mode, default_contract_length, order_number_prefix, settings, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        args![
            &tenant_id,
            organization_id,
            unit.name,
            unit.region,
            unit.currency,
            unit.timezone,
            unit.vat_rate_bp,
            unit.vat_mode,
            unit.default_contract_length,
            unit.order_number_prefix,
            serde_json::to_string(&unit.settings)?,
            now
        ],
    )
    .await?;
    let created: BusinessUnit = tx
        .fetch_one(
            format!("SELECT {BU_COLUMNS} FROM business_units WHERE tenant_id = $1"),
            args![&tenant_id],
        )
        .await?;
    Ok(created)
}

pub async fn list_business_units(db: &Db, organization_id: &str) -> Result<Vec<BusinessUnit>> {
    db.fetch_all(
        format!(
            "SELECT {BU_COLUMNS} FROM business_units WHERE organization_id = $1 ORDER BY tenant_id"
        ),
        args![organization_id],
    )
    .await
}

/// Applies `changes` and records `business_unit.updated` with `to_event` of the result.
pub async fn update_business_unit(
    db: &Db,
    tenant_id: &str,
    changes: BusinessUnitChanges,
    to_event: impl FnOnce(&BusinessUnit) -> serde_json::Value,
) -> Result<BusinessUnit> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let settings = changes
        .settings
        .map(|s| serde_json::to_string(&s))
        .transpose()?;
    let touched = tx
        .execute(
            "UPDATE business_units SET name = COALESCE($2, name), timezone = COALESCE($3, timezone), \
             vat_rate_bp = COALESCE($4, vat_rate_bp), vat_mode = COALESCE($5, vat_mode), \
             default_contract_length = COALESCE($6, default_contract_length), \
             order_number_prefix = COALESCE($7, order_number_prefix), settings = COALESCE($8, settings), \
             updated_at = $9 WHERE tenant_id = $1",
            args![
                tenant_id,
                changes.name,
                changes.timezone,
                changes.vat_rate_bp,
                changes.vat_mode,
                changes.default_contract_length,
                changes.order_number_prefix,
                settings,
                now
            ],
        )
        .await?;
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    bump_auth_epoch(&mut tx).await?;
    let updated: BusinessUnit = tx
        .fetch_one(
            format!("SELECT {BU_COLUMNS} FROM business_units WHERE tenant_id = $1"),
            args![tenant_id],
        )
        .await?;
    events::record(
        &mut tx,
        NewEvent {
            tenant_id,
            event_type: "business_unit.updated",
            resource_type: "business_unit",
            resource_id: tenant_id,
            data: to_event(&updated),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

async fn insert_api_key(
    tx: &mut Tx,
    organization_id: &str,
    event_tenant: &str,
    region: &str,
    new: NewApiKey,
    now: i64,
) -> Result<CreatedApiKey> {
    let secret = api_key::generate_secret(region)
        .map_err(|e| StoreError::Config(format!("no randomness available: {e}")))?;
    let key_id = IdKind::ApiKey.generate();
    tx.execute(
        "INSERT INTO api_keys (key_id, organization_id, name, secret_hash, permissions, business_unit_ids, created_by, created_at, usage_count, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
        args![
            &key_id,
            organization_id,
            new.name,
            api_key::hash_secret(&secret),
            serde_json::to_string(&new.permissions)?,
            new.business_unit_ids.as_ref().map(serde_json::to_string).transpose()?,
            new.created_by,
            now,
            new.expires_at
        ],
    )
    .await?;
    let key: ApiKey = tx
        .fetch_one(
            format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = $1"),
            args![&key_id],
        )
        .await?;
    events::record(
        tx,
        NewEvent {
            tenant_id: event_tenant,
            event_type: "api_key.created",
            resource_type: "api_key",
            resource_id: &key_id,
            data: serde_json::json!({ "keyId": key.key_id, "name": key.name, "permissions": key.permissions() }),
        },
    )
    .await?;
    Ok(CreatedApiKey { key, secret })
}

/// Creates a key for `organization_id`. `event_tenant` is the business unit whose event log
/// records the creation.
pub async fn create_api_key(
    db: &Db,
    organization_id: &str,
    event_tenant: &str,
    region: &str,
    new: NewApiKey,
) -> Result<CreatedApiKey> {
    let mut tx = db.begin().await?;
    let created = insert_api_key(
        &mut tx,
        organization_id,
        event_tenant,
        region,
        new,
        now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// A page of an organization's keys, newest first, after the key `start_after` when given.
pub async fn list_api_keys(
    db: &Db,
    organization_id: &str,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<ApiKey>> {
    let spec = ListSpec {
        from: "api_keys",
        columns: KEY_COLUMNS,
        // Keys belong to the organization, above its business units.
        tenant_column: "organization_id",
        id_column: "key_id",
        sort: SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
        descending: true,
        filters: Vec::new(),
        limit,
        start_after,
    };
    list::fetch_page(db, organization_id, &spec).await
}

/// Revokes a key; revoking a revoked key changes nothing and returns it as it is.
pub async fn revoke_api_key(
    db: &Db,
    organization_id: &str,
    event_tenant: &str,
    key_id: &str,
) -> Result<ApiKey> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let touched = tx
        .execute(
            "UPDATE api_keys SET revoked_at = $3 WHERE organization_id = $1 AND key_id = $2 AND revoked_at IS NULL",
            args![organization_id, key_id, now],
        )
        .await?;
    let key: Option<ApiKey> = tx
        .fetch_optional(
            format!(
                "SELECT {KEY_COLUMNS} FROM api_keys WHERE organization_id = $1 AND key_id = $2"
            ),
            args![organization_id, key_id],
        )
        .await?;
    let key = key.ok_or(StoreError::NotFound)?;
    if touched > 0 {
        bump_auth_epoch(&mut tx).await?;
        events::record(
            &mut tx,
            NewEvent {
                tenant_id: event_tenant,
                event_type: "api_key.revoked",
                resource_type: "api_key",
                resource_id: key_id,
                data: serde_json::json!({ "keyId": key.key_id, "name": key.name }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(key)
}

crate::row! {
    struct AuthEpoch {
        epoch: i64,
    }
}

/// The counter that moves with every change to what [`authenticate`] reads; a process that
/// keeps verified keys in memory keeps them while it stands still.
pub async fn auth_epoch(db: &Db) -> Result<i64> {
    let row: Option<AuthEpoch> = db
        .fetch_optional("SELECT epoch FROM auth_epoch WHERE id = 1", args![])
        .await?;
    row.map(|r| r.epoch).ok_or(StoreError::NotFound)
}

async fn bump_auth_epoch(tx: &mut Tx) -> Result<()> {
    tx.execute(
        "UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1",
        args![],
    )
    .await?;
    Ok(())
}

/// Who a request comes from: the key, its organization, and the business unit it named when
/// that unit exists in `region` and belongs to the key's organization.
pub struct Authenticated {
    pub key: ApiKey,
    pub organization: Organization,
    pub business_unit: Option<BusinessUnit>,
}

crate::row! {
    struct AuthenticatedRow {
        key_id: String,
        organization_id: String,
        name: String,
        permissions_json: String,
        business_unit_ids_json: Option<String>,
        created_by: Option<String>,
        created_at: i64,
        last_used_at: Option<i64>,
        usage_count: i64,
        expires_at: Option<i64>,
        revoked_at: Option<i64>,
        secret_hash: String,
        org_name: String,
        org_tier: String,
        org_created_at: i64,
        org_updated_at: i64,
        bu_tenant_id: Option<String>,
        bu_name: Option<String>,
        bu_region: Option<String>,
        bu_currency: Option<String>,
        bu_timezone: Option<String>,
        bu_vat_rate_bp: Option<i64>,
        bu_vat_mode: Option<String>,
        bu_default_contract_length: Option<i64>,
        bu_order_number_prefix: Option<String>,
        bu_settings: Option<String>,
        bu_created_at: Option<i64>,
        bu_updated_at: Option<i64>,
    }
}

/// Looks up the key whose secret is `secret` (by hash, then compared again in constant time)
/// together with its organization and the business unit `tenant_id`, in one query: this runs
/// for every request.
pub async fn authenticate(
    db: &Db,
    secret: &str,
    tenant_id: &str,
    region: &str,
) -> Result<Option<Authenticated>> {
    let hash = api_key::hash_secret(secret);
    let row: Option<AuthenticatedRow> = db
        .fetch_optional(
            "SELECT k.key_id, k.organization_id, k.name, k.permissions AS permissions_json, \
             k.business_unit_ids AS business_unit_ids_json, k.created_by, k.created_at, k.last_used_at, k.usage_count, \
             k.expires_at, k.revoked_at, k.secret_hash, o.name AS org_name, o.tier AS org_tier, \
             o.created_at AS org_created_at, o.updated_at AS org_updated_at, b.tenant_id AS bu_tenant_id, \
             b.name AS bu_name, b.region AS bu_region, b.currency AS bu_currency, b.timezone AS bu_timezone, \
             b.vat_rate_bp AS bu_vat_rate_bp, b.vat_mode AS bu_vat_mode, b.default_contract_length AS bu_default_contract_length, \
             b.order_number_prefix AS bu_order_number_prefix, b.settings AS bu_settings, b.created_at AS bu_created_at, \
             b.updated_at AS bu_updated_at \
             FROM api_keys k JOIN organizations o ON o.organization_id = k.organization_id \
             LEFT JOIN business_units b ON b.tenant_id = $2 AND b.organization_id = k.organization_id AND b.region = $3 \
             WHERE k.secret_hash = $1",
            args![&hash, tenant_id, region],
        )
        .await?;
    let Some(r) = row.filter(|r| api_key::hashes_equal(&r.secret_hash, &hash)) else {
        return Ok(None);
    };
    let business_unit = match (
        r.bu_tenant_id,
        r.bu_name,
        r.bu_region,
        r.bu_currency,
        r.bu_timezone,
        r.bu_vat_rate_bp,
        r.bu_vat_mode,
        r.bu_default_contract_length,
        r.bu_order_number_prefix,
        r.bu_settings,
        r.bu_created_at,
        r.bu_updated_at,
    ) {
        (
            Some(tenant_id),
            Some(name),
            Some(region),
            Some(currency),
            Some(timezone),
            Some(vat_rate_bp),
            Some(vat_mode),
            Some(default_contract_length),
            Some(order_number_prefix),
            Some(settings),
            Some(created_at),
            Some(updated_at),
        ) => Some(BusinessUnit {
            tenant_id,
            organization_id: r.organization_id.clone(),
            name,
            region,
            currency,
            timezone,
            vat_rate_bp,
            vat_mode,
            default_contract_length,
            order_number_prefix,
            settings,
            created_at,
            updated_at,
        }),
        _ => None,
    };
    Ok(Some(Authenticated {
        organization: Organization {
            organization_id: r.organization_id.clone(),
            name: r.org_name,
            tier: r.org_tier,
            created_at: r.org_created_at,
            updated_at: r.org_updated_at,
        },
        key: ApiKey {
            key_id: r.key_id,
            organization_id: r.organization_id,
            name: r.name,
            permissions_json: r.permissions_json,
            business_unit_ids_json: r.business_unit_ids_json,
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            usage_count: r.usage_count,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        },
        business_unit,
    }))
}

/// Adds counted uses to keys: `(key_id, uses, last_used_at)`. Uses are counted in memory and
/// written in batches so that a request never waits for the writer just to be counted.
pub async fn add_key_usage(db: &Db, usage: &[(String, i64, i64)]) -> Result<()> {
    if usage.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for (key_id, uses, last_used_at) in usage {
        tx.execute(
            "UPDATE api_keys SET usage_count = usage_count + $2, \
             last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $3 THEN $3 ELSE last_used_at END WHERE key_id = $1",
            args![key_id, *uses, *last_used_at],
        )
        .await?;
    }
    tx.commit().await
}

/// The business unit `tenant_id`, whatever its region (background work spans regions).
pub async fn business_unit(db: &Db, tenant_id: &str) -> Result<Option<BusinessUnit>> {
    db.fetch_optional(
        format!("SELECT {BU_COLUMNS} FROM business_units WHERE tenant_id = $1"),
        args![tenant_id],
    )
    .await
}
