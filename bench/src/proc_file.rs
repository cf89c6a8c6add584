//! Figures Linux keeps in `/proc`: the first number after `field:` in a file such as
//! `/proc/self/status`, `/proc/self/io` or `/proc/meminfo`.

/// The number on the `{field}:` line of `path`; `None` when the file or the line is missing.
pub fn number(path: &str, field: &str) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
