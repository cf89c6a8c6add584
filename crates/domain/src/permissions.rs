//! What an API key may do: `<resource>:read`, `<resource>:write`, or `*`.

use std::fmt;

pub const RESOURCES: &[&str] = &[
    "products",
    "customers",
    "orders",
    "subscriptions",
    "assets",
    "payments",
    "billing_groups",
    "files",
    "exports",
    "webhooks",
    "settings",
    "api_keys",
    "events",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// One permission a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Required {
    pub resource: &'static str,
    pub access: Access,
}

impl Required {
    pub const fn read(resource: &'static str) -> Self {
        Required {
            resource,
            access: Access::Read,
        }
    }
    pub const fn write(resource: &'static str) -> Self {
        Required {
            resource,
            access: Access::Write,
        }
    }
}

impl fmt::Display for Required {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = match self.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        write!(f, "{}:{}", self.resource, access)
    }
}

/// Whether a granted permission string is well formed. `<resource>:*` grants read and write.
pub fn is_valid(granted: &str) -> bool {
    if granted == "*" {
        return true;
    }
    match granted.split_once(':') {
        Some((resource, access)) => {
            RESOURCES.contains(&resource) && matches!(access, "read" | "write" | "*")
        }
        None => false,
    }
}

/// Whether `granted` covers `required`. Write implies read, as a key that may change a thing may
/// also look at it.
pub fn allows(granted: &[String], required: Required) -> bool {
    granted.iter().any(|g| {
        if g == "*" {
            return true;
        }
        let Some((resource, access)) = g.split_once(':') else {
            return false;
        };
        resource == required.resource
            && match access {
                "*" | "write" => true,
                "read" => required.access == Access::Read,
                _ => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn grants() {
        assert!(allows(&p(&["*"]), Required::write("products")));
        assert!(allows(&p(&["products:read"]), Required::read("products")));
        assert!(!allows(&p(&["products:read"]), Required::write("products")));
        assert!(allows(&p(&["products:write"]), Required::read("products")));
        assert!(allows(&p(&["products:*"]), Required::write("products")));
        assert!(!allows(&p(&["orders:*"]), Required::read("products")));
        assert!(!allows(&p(&[]), Required::read("products")));
    }

    #[test]
    fn validity() {
        assert!(is_valid("*"));
        assert!(is_valid("api_keys:write"));
        assert!(is_valid("orders:*"));
        assert!(!is_valid("orders"));
        assert!(!is_valid("rockets:read"));
        assert!(!is_valid("orders:delete"));
    }
}
