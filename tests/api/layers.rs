//! The layers point down: `domain` <- `entity` <- `store` <- `render` <-
//! `notify`, `web` <- `state`/`startup`/`main`. A lower layer that names a
//! higher one fails here, before the shortcut becomes a habit.
use std::path::Path;

const LOWER: [&str; 4] = ["src/domain", "src/entity", "src/store", "src/render"];
const HIGHER: [&str; 5] = ["web", "state", "startup", "notify", "config"];
/// What `notify` stands beside or above: the worker takes its own narrow
/// context, never the web app's state.
const ABOVE_NOTIFY: [&str; 3] = ["web", "state", "startup"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The higher layers `source` names, as `crate::web::...` or inside `use crate::{...}`.
fn names_higher(source: &str) -> Vec<&'static str> {
    names_of(source, &HIGHER)
}

fn names_of(source: &str, higher: &[&'static str]) -> Vec<&'static str> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let named: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .map(|p| p.trim().split("::").next().unwrap_or(""))
                .collect()
        } else {
            vec![rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")]
        };
        for &layer in higher {
            if named.contains(&layer) && !found.contains(&layer) {
                found.push(layer);
            }
        }
    }
    found
}

#[test]
fn lower_layers_name_no_higher_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    for dir in LOWER {
        let mut files = Vec::new();
        rust_files(&root.join(dir), &mut files);
        assert!(!files.is_empty(), "{dir} has Rust files");
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for layer in names_higher(&source) {
                offenders.push(format!(
                    "{} names crate::{layer}",
                    file.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "layers must point down:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn notify_names_neither_the_web_app_nor_its_state() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/notify"), &mut files);
    let offenders: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let source = std::fs::read_to_string(file).unwrap();
            names_of(&source, &ABOVE_NOTIFY)
                .into_iter()
                .map(|layer| {
                    format!(
                        "{} names crate::{layer}",
                        file.strip_prefix(root).unwrap().display()
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

#[test]
fn the_check_sees_both_spellings() {
    assert_eq!(names_higher("use crate::web::AppError;"), vec!["web"]);
    assert_eq!(
        names_higher("use crate::{domain, notify::x, state};"),
        vec!["state", "notify"]
    );
    assert!(names_higher("use crate::domain::ParseError; use crate::webhooks;").is_empty());
}
