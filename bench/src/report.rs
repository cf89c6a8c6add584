//! What one measurement found, and the single table `bench all` prints: one row per measure, one
//! column per database, the goal beside it.

use std::fmt::Write;

pub struct Measure {
    pub label: String,
    pub shown: String,
    pub goal: String,
    /// Whether the goal is met; `None` for figures that only give context.
    pub met: Option<bool>,
}

impl Measure {
    pub fn at_least(label: impl Into<String>, value: f64, goal: f64) -> Measure {
        Measure {
            label: label.into(),
            shown: format!("{value:.2}"),
            goal: format!("≥ {goal}"),
            met: Some(value >= goal),
        }
    }

    pub fn at_most(label: impl Into<String>, value: f64, goal: f64) -> Measure {
        Measure {
            label: label.into(),
            shown: format!("{value:.2}"),
            goal: format!("≤ {goal}"),
            met: Some(value <= goal),
        }
    }

    pub fn info(label: impl Into<String>, shown: impl Into<String>) -> Measure {
        Measure {
            label: label.into(),
            shown: shown.into(),
            goal: String::new(),
            met: None,
        }
    }

    /// A figure with a goal of its own unit, such as memory in MiB.
    pub fn below(label: impl Into<String>, value: f64, unit: &str, goal: f64) -> Measure {
        Measure {
            label: label.into(),
            shown: format!("{value:.1} {unit}"),
            goal: format!("< {goal} {unit}"),
            met: Some(value < goal),
        }
    }
}

/// A Markdown table: rows in the order first measured, a column per database.
pub fn table(columns: &[(&str, Vec<Measure>)]) -> String {
    let mut labels: Vec<(String, String)> = Vec::new();
    for (_, measures) in columns {
        for m in measures {
            if !labels.iter().any(|(l, _)| *l == m.label) {
                labels.push((m.label.clone(), m.goal.clone()));
            }
        }
    }
    let mut out = String::from("| measure |");
    for (name, _) in columns {
        let _ = write!(out, " {name} |");
    }
    out.push_str(" goal |\n|---|");
    for _ in columns {
        out.push_str("---:|");
    }
    out.push_str("---|\n");
    for (label, goal) in labels {
        let _ = write!(out, "| {label} |");
        for (_, measures) in columns {
            let cell = measures.iter().find(|m| m.label == label).map_or_else(
                || "–".to_string(),
                |m| match m.met {
                    Some(true) => format!("{} ✓", m.shown),
                    Some(false) => format!("**{}** ✗", m.shown),
                    None => m.shown.clone(),
                },
            );
            let _ = write!(out, " {cell} |");
        }
        let _ = writeln!(out, " {goal} |");
    }
    out
}
