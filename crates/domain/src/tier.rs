//! Organization tiers and the request rates they buy.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Starter,
    Growth,
    Enterprise,
}

impl Tier {
    pub fn parse(text: &str) -> Option<Tier> {
        match text {
            "starter" => Some(Tier::Starter),
            "growth" => Some(Tier::Growth),
            "enterprise" => Some(Tier::Enterprise),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Starter => "starter",
            Tier::Growth => "growth",
            Tier::Enterprise => "enterprise",
        }
    }

    /// Requests per minute. Growth and enterprise are "unlimited" with a fair-use ceiling that
    /// the operator sets.
    pub fn requests_per_minute(self, fair_use_ceiling: u32) -> u32 {
        match self {
            Tier::Starter => 100,
            Tier::Growth | Tier::Enterprise => fair_use_ceiling,
        }
    }
}
