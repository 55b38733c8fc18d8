//! The house rules, read off the source: imports point down the layers of
//! `../shared/ARCHITECTURE.md` ("Layers"), and nothing but `app.rs` and
//! `main.rs` imports a handler. Reads every `use crate::...` (and
//! `super::`/`self::`) line and every inline `crate::...` path of `src/`,
//! test modules excepted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

/// The rows of the layer table, lowest first; a module's domain code may
/// import only from rows below its own (and from its own capability).
fn rank(top: &str) -> u8 {
    match top {
        "accounts" => 1,
        "catalog" => 2,
        "media" => 3,
        "learning" => 4,
        "assessments" => 5,
        "certificates" => 6,
        "commerce" => 7,
        "ops" | "dashboards" | "tutor" | "api" => 8,
        "app" | "main" => 9,
        // jobs, infra, web, state, config, error, ids, text, money, ...
        _ => 0,
    }
}

/// Handlers and views compose any capability's public functions.
fn composes(module: &[String]) -> bool {
    module.iter().any(|m| m == "handlers" || m == "views")
        || matches!(module.first().map(String::as_str), Some("labels"))
        || rank(&module[0]) >= 8
}

fn is_handler(path: &[String]) -> bool {
    path.iter().any(|m| m == "handlers")
}

/// One source file: its module path and its text.
struct Source {
    file: String,
    module: Vec<String>,
    is_mod_rs: bool,
    /// Code without comments, strings or test modules.
    text: String,
    /// Code and strings, without comments or test modules.
    with_strings: String,
}

fn module_of(rel: &Path) -> (Vec<String>, bool) {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    let is_mod = parts.last().is_some_and(|p| p == "mod");
    if is_mod {
        parts.pop();
    }
    (parts, is_mod)
}

fn sources(root: &Path) -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(root).unwrap();
            let (module, is_mod_rs) = module_of(rel);
            let raw = fs::read_to_string(&path).unwrap();
            Source {
                file: format!("src/{}", rel.display()),
                module,
                is_mod_rs,
                text: code_only(&raw),
                with_strings: stripped(&raw, true),
            }
        })
        .collect()
}

/// The text without comments, string contents and `#[cfg(test)]` items.
fn code_only(text: &str) -> String {
    stripped(text, false)
}

/// The text without comments and `#[cfg(test)]` items; string contents
/// kept when `strings`.
fn stripped(text: &str, strings: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 12)].iter().collect();
        if rest.starts_with("//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if rest.starts_with("/*") {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            i += 2 + hashes;
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let from = i;
            while i < chars.len() && !chars[i..].iter().collect::<String>().starts_with(&close) {
                i += 1;
            }
            out.push('"');
            if strings {
                out.extend(&chars[from..i.min(chars.len())]);
            }
            out.push('"');
            i += close.len();
        } else if chars[i] == '"' {
            i += 1;
            let from = i;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            out.push('"');
            if strings {
                out.extend(&chars[from..i.min(chars.len())]);
            }
            out.push('"');
            i += 1;
        } else if chars[i] == '\''
            && i + 2 < chars.len()
            && (chars[i + 2] == '\'' || chars[i + 1] == '\\')
        {
            // A char literal ('x', '\n', '\''); a lifetime has no closing quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if rest.starts_with("#[cfg(test)]") {
            // Skip the attribute and the item it guards (up to its block's end
            // or its `;`).
            i += "#[cfg(test)]".len();
            let mut depth = 0usize;
            while i < chars.len() {
                match chars[i] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    ';' if depth == 0 => {
                        i += 1;
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Expands a use tree (`a::{b, c::{d, e}}`) into paths.
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if tree.is_empty() {
        return;
    }
    if let Some(inner) = tree.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let mut depth = 0;
        let mut part = String::new();
        for c in inner.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(prefix, &part, out);
                    part.clear();
                    continue;
                }
                _ => {}
            }
            part.push(c);
        }
        expand(prefix, &part, out);
        return;
    }
    if let Some(at) = tree.find("::{") {
        let mut head = prefix.to_vec();
        head.extend(tree[..at].split("::").map(|s| s.trim().to_string()));
        expand(&head, &tree[at + 2..], out);
        return;
    }
    let mut path = prefix.to_vec();
    let name = tree.split(" as ").next().unwrap_or(tree);
    path.extend(name.split("::").map(|s| s.trim().to_string()));
    out.push(path);
}

/// Every path the code names through `crate`, `super` or `self`, made absolute.
fn imports(source: &Source) -> BTreeSet<Vec<String>> {
    let text = &source.text;
    let mut raw = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = rest.find(';') else { break };
        let tree = rest[..end].replace(['\n', ' '], "");
        if tree.starts_with("crate::") || tree.starts_with("super::") || tree.starts_with("self::")
        {
            expand(&[], &tree, &mut raw);
        }
    }
    // Inline paths: `crate::a::b(...)`, `super::x::y`.
    let bytes: Vec<char> = text.chars().collect();
    let s: String = bytes.iter().collect();
    for head in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = s[from..].find(head) {
            let start = from + at;
            from = start + head.len();
            if s[..start]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            {
                continue;
            }
            let path: String = s[start..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            raw.push(
                path.split("::")
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect(),
            );
        }
    }
    let base: Vec<String> = if source.is_mod_rs {
        source.module.clone()
    } else {
        source.module[..source.module.len().saturating_sub(1)].to_vec()
    };
    raw.into_iter()
        .filter_map(|path: Vec<String>| {
            let first = path.first()?.as_str();
            let absolute = match first {
                "crate" => path[1..].to_vec(),
                "self" => base
                    .iter()
                    .cloned()
                    .chain(path[1..].iter().cloned())
                    .collect(),
                "super" => {
                    let ups = path.iter().take_while(|p| *p == "super").count();
                    let mut b = base.clone();
                    b.truncate(b.len().saturating_sub(ups));
                    b.into_iter().chain(path[ups..].iter().cloned()).collect()
                }
                _ => return None,
            };
            (!absolute.is_empty()).then_some(absolute)
        })
        .collect()
}

/// What breaks the rules in `sources`: (file, what, path).
fn violations(sources: &[Source]) -> Vec<String> {
    let mut found = Vec::new();
    for source in sources {
        let me = &source.module;
        let top = me[0].as_str();
        if matches!(top, "app" | "main" | "lib") {
            continue;
        }
        for path in imports(source) {
            let target = path[0].as_str();
            let shown = path.join("::");
            if is_handler(&path) && !(target == top && is_handler(me)) {
                found.push(format!("{}: imports a handler: {shown}", source.file));
                continue;
            }
            if target == top || composes(me) {
                continue;
            }
            let (mine, theirs) = (rank(top), rank(target));
            let climbs = theirs > mine || (theirs == mine && mine > 0) || (mine == 0 && theirs > 0);
            if climbs {
                found.push(format!("{}: climbs to {shown}", source.file));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn imports_point_down_the_layers_and_nobody_imports_a_handler() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&sources(&root));
    assert!(
        found.is_empty(),
        "imports against the layers (ARCHITECTURE.md, \"Layers\"):\n{}",
        found.join("\n")
    );
}

fn fake(file: &str, text: &str) -> Source {
    let (module, is_mod_rs) = module_of(Path::new(file));
    Source {
        file: file.into(),
        module,
        is_mod_rs,
        text: code_only(text),
        with_strings: stripped(text, true),
    }
}

#[test]
fn the_check_catches_a_climbing_import_a_handler_import_and_plumbing_naming_a_capability() {
    let found = violations(&[
        fake(
            "catalog/service.rs",
            "use crate::{ids::CourseId, media::images::url};\nfn f() { crate::learning::x(); }",
        ),
        fake(
            "assessments/service.rs",
            "use crate::certificates::check_topic;",
        ),
        fake(
            "certificates/mod.rs",
            "use crate::learning::handlers::routes;",
        ),
        fake("web/page.rs", "use crate::accounts::CurrentUser;"),
        fake(
            "learning/repo.rs",
            "use super::progress; use crate::catalog::model::Product;",
        ),
        fake(
            "learning/handlers/mod.rs",
            "use crate::certificates::issue; mod admin;",
        ),
        fake(
            "catalog/mod.rs",
            "#[cfg(test)]\nmod tests { use crate::commerce::x; }\n// use crate::commerce::y;\nconst A: &str = \"crate::commerce::z\";",
        ),
    ]);
    assert_eq!(
        found,
        vec![
            "assessments/service.rs: climbs to certificates::check_topic",
            "catalog/service.rs: climbs to learning::x",
            "catalog/service.rs: climbs to media::images::url",
            "certificates/mod.rs: imports a handler: learning::handlers::routes",
            "web/page.rs: climbs to accounts::CurrentUser",
        ]
    );
}

/// Where words for people and status codes belong: handlers, views and
/// labels, the web plumbing, the error type, and the assembly.
fn may_speak(module: &[String]) -> bool {
    composes(module)
        || matches!(
            module.first().map(String::as_str),
            Some("web" | "error" | "app" | "main")
        )
}

fn speaks(source: &Source) -> bool {
    source
        .with_strings
        .chars()
        .any(|c| ('\u{ac00}'..='\u{d7a3}').contains(&c) || ('\u{3131}'..='\u{318e}').contains(&c))
        || source.text.contains("StatusCode")
}

fn speaking(sources: &[Source]) -> Vec<String> {
    sources
        .iter()
        .filter(|s| !may_speak(&s.module) && speaks(s))
        .map(|s| s.file.clone())
        .collect()
}

#[test]
fn korean_words_and_status_codes_stay_above_the_domain() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = speaking(&sources(&root));
    assert!(
        found.is_empty(),
        "Korean words or StatusCode in domain code (put them in handlers, views or labels):\n{found:?}"
    );
}

#[test]
fn the_word_check_catches_a_korean_literal_in_a_service_and_nothing_in_comments_or_tests() {
    let found = speaking(&[
        fake(
            "learning/service.rs",
            "fn f() -> &'static str { \"잠시 뒤 다시 시도해 주세요.\" }",
        ),
        fake(
            "media/error.rs",
            "fn s() -> axum::http::StatusCode { axum::http::StatusCode::OK }",
        ),
        fake(
            "catalog/repo.rs",
            "// 한국어 주석\nfn f() {}\n#[cfg(test)]\nmod tests { const A: &str = \"테스트\"; }",
        ),
        fake(
            "catalog/handlers/pages.rs",
            "const A: &str = \"강의 목록\";",
        ),
        fake("web/page.rs", "const A: &str = \"홈\";"),
    ]);
    assert_eq!(found, vec!["learning/service.rs", "media/error.rs"]);
}
