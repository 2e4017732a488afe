//! The house rules of `src/`, checked on the source text:
//! - top-level modules depend downward only, in the order `src/lib.rs` lists them;
//! - only `web/` (and `main.rs`) knows actix and the server state;
//! - only `catalog/` and `audit/` see a database connection;
//! - no file over 900 lines (test-only `tests.rs` files aside), no function over 150 lines;
//! - no glob re-exports (`pub use x::*`) that hide where a name lives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 900;
const MAX_FN_LINES: usize = 150;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The code of a file without its comments (line comments and doc comments).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string literal (a URL) is kept: count the quotes before it.
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file of `src/` belongs to (`src/x.rs` or `src/x/…`).
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(src()).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

/// The layer order `src/lib.rs` states: its doc lines `//! - `name`: …`, lowest first.
fn layers() -> Vec<String> {
    std::fs::read_to_string(src().join("lib.rs"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("//! - `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// The top-level modules a piece of code names through `crate::`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, Error}`: the first segment of each item.
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push(name);
            }
        } else {
            found.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    // Items of the crate root (`Error`, `Result`) start with a capital letter.
    found.retain(|n| n.starts_with(|c: char| c.is_ascii_lowercase()));
    found
}

#[test]
fn modules_depend_downward_only() {
    let order = layers();
    assert!(
        order.len() > 5,
        "src/lib.rs lists no layers (doc lines `//! - `name`: …`): {order:?}"
    );
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut upward = Vec::new();
    for file in rust_files(&src()) {
        let module = module_of(&file);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&own) = rank.get(module.as_str()) else {
            panic!("src/lib.rs does not list module `{module}` in its layers");
        };
        for used in crate_paths(&code(&file)) {
            if used == module {
                continue;
            }
            match rank.get(used.as_str()) {
                Some(&other) if other < own => {}
                Some(_) => upward.push(format!(
                    "{} (`{module}`) uses `{used}`, which is not below it",
                    file.display()
                )),
                None => upward.push(format!(
                    "{} uses `crate::{used}`, which src/lib.rs does not list",
                    file.display()
                )),
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports that run back up:\n{}",
        upward.join("\n")
    );
}

/// Files of `src/` that mention `word` in code, outside the modules allowed to.
fn mentions_outside(word: &str, allowed: &[&str]) -> Vec<String> {
    rust_files(&src())
        .into_iter()
        .filter(|f| !allowed.contains(&module_of(f).as_str()))
        .filter(|f| code(f).contains(word))
        .map(|f| f.display().to_string())
        .collect()
}

#[test]
fn only_the_web_layer_knows_actix_and_the_server_state() {
    for word in ["actix", "AppState"] {
        let found = mentions_outside(word, &["web", "main"]);
        assert!(found.is_empty(), "{word} outside src/web/: {found:#?}");
    }
}

#[test]
fn only_the_catalog_and_the_ledger_see_a_database() {
    for word in ["rusqlite", "Connection", "Transaction<"] {
        let found = mentions_outside(word, &["catalog", "audit"]);
        assert!(
            found.is_empty(),
            "{word} outside catalog/ and audit/: {found:#?}"
        );
    }
}

#[test]
fn files_and_functions_stay_small() {
    let mut problems = Vec::new();
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let test_only = file.file_name().is_some_and(|n| n == "tests.rs");
        if lines.len() > MAX_FILE_LINES && !test_only {
            problems.push(format!("{}: {} lines", file.display(), lines.len()));
        }
        // rustfmt puts a function's closing brace alone at the indentation of its `fn`.
        for (start, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let signature = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "pub(super) fn ",
                "async fn ",
            ]
            .iter()
            .chain(&["pub async fn ", "const fn ", "pub const fn "])
            .any(|p| trimmed.starts_with(p));
            if !signature || trimmed.ends_with(';') {
                continue;
            }
            let indent = &line[..line.len() - trimmed.len()];
            let close = format!("{indent}}}");
            if let Some(length) = lines[start..].iter().position(|l| *l == close)
                && length + 1 > MAX_FN_LINES
            {
                problems.push(format!(
                    "{}:{}: a function of {} lines",
                    file.display(),
                    start + 1,
                    length + 1
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "over {MAX_FILE_LINES} lines a file or {MAX_FN_LINES} a function:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_glob_re_exports() {
    let found: Vec<String> = rust_files(&src())
        .into_iter()
        .filter(|f| {
            code(f)
                .lines()
                .any(|l| l.trim_start().starts_with("pub use") && l.contains("::*"))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(found.is_empty(), "glob re-exports: {found:#?}");
}
