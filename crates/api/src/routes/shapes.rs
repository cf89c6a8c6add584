//! Wire shapes shared by several resources (addresses, the order's customer), their parsing,
//! and the event payloads the store records (`Wire`).

use flexportal_store::Wire;
use flexportal_store::assets::Asset;
use flexportal_store::customers::Customer;
use flexportal_store::files::File;
use flexportal_store::orders::Order;
use flexportal_store::payments::Payment;
use flexportal_store::rentals::Rental;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::input::Problems;
use crate::routes::{assets, customers, files, orders, payments, rentals, to_json};

/// A postal address, as orders and customers carry it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub contact_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub building_info: Option<String>,
    pub street_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_area: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country name or ISO code, as the caller uses it.
    pub country: Option<String>,
}

impl Address {
    /// Checks required parts and lengths; returns the stored JSON text.
    pub fn checked(self, p: &mut Problems, base: &str) -> Option<String> {
        let path = |field: &str| format!("{base}.{field}");
        let before = p.len();
        let address = Address {
            contact_name: p.required_text(&path("contactName"), self.contact_name, 200),
            company: p.text(&path("company"), self.company, 200),
            building_info: p.text(&path("buildingInfo"), self.building_info, 200),
            street_address: p.required_text(&path("streetAddress"), self.street_address, 300),
            locality: p.text(&path("locality"), self.locality, 200),
            city: p.required_text(&path("city"), self.city, 200),
            admin_area: p.text(&path("adminArea"), self.admin_area, 200),
            postal_code: p.text(&path("postalCode"), self.postal_code, 20),
            country: p.required_text(&path("country"), self.country, 100),
        };
        (p.len() == before).then(|| to_json(&address).to_string())
    }
}

/// Parses a stored address (JSON text) for output.
pub fn address_value(text: Option<&str>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

/// Event payloads: each resource as its own `GET` shows it.
pub struct Shapes {
    pub exponent: u32,
}

impl Wire for Shapes {
    fn order(&self, order: &Order) -> serde_json::Value {
        to_json(&orders::order_body(order, self.exponent))
    }

    fn asset(&self, asset: &Asset) -> serde_json::Value {
        to_json(&assets::asset_body(asset, self.exponent))
    }

    fn rental(&self, rental: &Rental) -> serde_json::Value {
        to_json(&rentals::rental_body(rental, self.exponent))
    }

    fn payment(&self, payment: &Payment) -> serde_json::Value {
        to_json(&payments::payment_body(payment, self.exponent))
    }

    fn customer(&self, customer: &Customer, order_ids: &[String]) -> serde_json::Value {
        to_json(&customers::customer_body(
            customer,
            order_ids.to_vec(),
            self.exponent,
        ))
    }

    fn file(&self, file: &File) -> serde_json::Value {
        to_json(&files::file_body(file))
    }
}
