//! The YAML blocks of the repository's docs pages, for tests that run what a page shows.

use serde_yaml_ng::Value;
use test_support::repo_root;

/// The one fenced ```` ```yaml ```` block of `docs/<page>` whose text contains `marker`, parsed.
///
/// # Panics
/// When no block or several blocks contain `marker`, or the block is not YAML: the page and its
/// test no longer fit together.
pub fn yaml_block(page: &str, marker: &str) -> Value {
    let path = repo_root().join("docs").join(page);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, fence) if fence.starts_with("```yaml") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().expect("inside a block")),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    let found: Vec<&String> = blocks.iter().filter(|b| b.contains(marker)).collect();
    assert_eq!(
        found.len(),
        1,
        "docs/{page}: {} yaml blocks contain {marker:?}, want exactly one",
        found.len()
    );
    serde_yaml_ng::from_str(found[0])
        .unwrap_or_else(|e| panic!("docs/{page}: the block with {marker:?} is not YAML: {e}"))
}

/// The strings of a YAML sequence at `value` (empty when absent).
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| {
            items
                .iter()
                .map(|item| item.as_str().expect("a list of strings").to_owned())
                .collect()
        })
        .unwrap_or_default()
}
