//! No import cycle among the files of any crate of the workspace.
//!
//! Every crate's source files form a directed graph: file `a` depends on file `b` when `a`
//! names an item of `b` (a `use crate::…`, `use super::…`, `use self::…` or `use child::…`
//! statement, or an inline `crate::…` / `super::…` path). Paths through a re-export
//! (`pub use m::X` in `lib.rs` or a `mod.rs`) are followed to the file that defines `X`, so
//! `crate::Probe` counts as a dependency on `probe.rs`, not on `lib.rs`; a re-export itself is
//! an alias, not a dependency. Declaring a child module (`pub mod x;`) is not a dependency. Unit-test modules (everything from the first
//! `#[cfg(test)]` line of a file) and comments (including doc links) are ignored.
//!
//! The test fails with the files of every strongly connected component of more than one file
//! (a cycle), per crate. `cycle_in_a_synthetic_crate_is_found` shows that it can fail.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module path (segments below the crate root) → file.
type Modules = BTreeMap<Vec<String>, PathBuf>;

/// Source roots of the workspace: `<member>/src` for every member of the root `Cargo.toml`,
/// plus the root package's binary sources.
fn crate_roots(root: &Path) -> Vec<PathBuf> {
    let toml = fs::read_to_string(root.join("Cargo.toml")).expect("root Cargo.toml");
    let start = toml.find("members").expect("workspace members");
    let list = &toml[start..];
    let list = &list[list.find('[').unwrap() + 1..list.find(']').unwrap()];
    let mut roots: Vec<PathBuf> = list
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .map(|m| root.join(m).join("src"))
        .collect();
    roots.push(root.join("crates/cli/src"));
    roots.sort();
    roots.dedup();
    roots.retain(|r| r.is_dir());
    roots
}

/// Every `.rs` file under `dir` (not `src/bin`, whose files are crates of their own).
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("readable source dir")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "bin") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Module path of a file relative to its source root (`lib.rs`/`main.rs` = the root).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut segs: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = segs.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !(matches!(stem, "mod") || (segs.is_empty() && matches!(stem, "lib" | "main"))) {
        segs.push(stem.to_string());
    }
    segs
}

/// Source text without comments, string literals' contents and unit-test modules.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'"' {
            // skip a string literal (escapes honoured); raw strings are rare in imports
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            out.push('"');
            i += 1;
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // a char literal such as '"' or '{'
            out.push_str("' '");
            i += 3;
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Expand a use tree (`a::{b, c::{d as e}}`) into its leaf paths (aliases dropped).
fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
    // drop `as alias` (keeping the punctuation after the alias), then all whitespace
    let mut norm = String::new();
    let mut toks = tree.split_whitespace();
    while let Some(t) = toks.next() {
        if t == "as" {
            if let Some(alias) = toks.next() {
                norm.extend(alias.chars().filter(|c| matches!(c, ',' | '}')));
            }
        } else {
            norm.push_str(t);
        }
    }
    fn go(s: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut p = prefix.to_vec();
        if let Some(open) = s.find('{') {
            p.extend(
                s[..open]
                    .split("::")
                    .filter(|x| !x.is_empty())
                    .map(str::to_string),
            );
            let inner = &s[open + 1..s.rfind('}').unwrap_or(s.len())];
            // split the inner list at top-level commas
            let (mut depth, mut last) = (0, 0);
            let ib = inner.as_bytes();
            for i in 0..=ib.len() {
                if i == ib.len() || (ib[i] == b',' && depth == 0) {
                    let part = &inner[last..i];
                    if !part.is_empty() {
                        go(part, &p, out);
                    }
                    last = i + 1;
                } else if ib[i] == b'{' {
                    depth += 1;
                } else if ib[i] == b'}' {
                    depth -= 1;
                }
            }
        } else {
            p.extend(
                s.split("::")
                    .filter(|x| !x.is_empty() && *x != "self")
                    .map(str::to_string),
            );
            out.push(p);
        }
    }
    let mut out = Vec::new();
    go(&norm, &[], &mut out);
    out
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// One parsed file: the paths it names (relative to its module or absolute) and its re-exports.
struct Parsed {
    /// Paths as written, first segment `crate`, `super`, `self` or a plain name.
    paths: Vec<Vec<String>>,
    /// `pub use` leaves: exported name → path as written.
    reexports: BTreeMap<String, Vec<String>>,
}

fn parse(code: &str) -> Parsed {
    let mut paths = Vec::new();
    let mut reexports = BTreeMap::new();
    // the code with use statements blanked (for the inline-path scan below)
    let mut rest = code.as_bytes().to_vec();
    // use statements (possibly spanning lines)
    let b = code.as_bytes();
    let mut i = 0;
    while let Some(off) = code[i..].find("use ") {
        let at = i + off;
        i = at + 4;
        let prev_ok = at == 0 || !is_ident_byte(b[at - 1]);
        if !prev_ok {
            continue;
        }
        // only statements: preceded (ignoring `pub`, `pub(crate)`) by `;`, `{`, `}`, `]` or start
        let before = code[..at].trim_end();
        let before = before
            .strip_suffix("pub(crate)")
            .or_else(|| before.strip_suffix("pub(super)"))
            .or_else(|| before.strip_suffix("pub"))
            .map(str::trim_end)
            .unwrap_or(before);
        if !(before.is_empty()
            || before.ends_with(';')
            || before.ends_with('{')
            || before.ends_with('}')
            || before.ends_with(']'))
        {
            continue;
        }
        let is_pub = code[..at].trim_end().ends_with("pub");
        let Some(end) = code[at..].find(';') else {
            break;
        };
        let tree = &code[at + 4..at + end];
        for mut p in expand_use_tree(tree) {
            if p.first().is_some_and(|s| s.is_empty()) {
                p.remove(0);
            }
            if is_pub {
                // a re-export is an alias, not a use: paths through it resolve to the file
                // that defines the item
                if let Some(last) = p.last() {
                    if last != "*" {
                        reexports.insert(last.clone(), p.clone());
                    }
                }
            } else {
                paths.push(p);
            }
        }
        rest[at..at + end].fill(b' ');
        i = at + end;
    }
    let code = String::from_utf8(rest).expect("blanking keeps UTF-8 boundaries");
    let b = code.as_bytes();
    // inline paths: crate::a::b, super::a
    for kw in ["crate::", "super::", "self::"] {
        let mut j = 0;
        while let Some(off) = code[j..].find(kw) {
            let at = j + off;
            j = at + kw.len();
            if at > 0 && (is_ident_byte(b[at - 1]) || b[at - 1] == b':') {
                continue;
            }
            let mut k = at;
            while k < b.len() && (is_ident_byte(b[k]) || b[k] == b':') {
                k += 1;
            }
            let p: Vec<String> = code[at..k]
                .split("::")
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect();
            if p.len() > 1 {
                paths.push(p);
            }
        }
    }
    Parsed { paths, reexports }
}

/// Absolute module path (below the crate root) of a path written in module `here`, or `None`
/// for paths into other crates.
fn absolute(here: &[String], modules: &Modules, p: &[String]) -> Option<Vec<String>> {
    let first = p.first()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "super" => here[..here.len().saturating_sub(1)].to_vec(),
        "self" => here.to_vec(),
        _ => {
            // a child module of `here` (uniform paths), else another crate / std
            let mut c = here.to_vec();
            c.push(first.clone());
            if modules.contains_key(&c) {
                let mut out = here.to_vec();
                out.extend(p.iter().cloned());
                return Some(out);
            }
            return None;
        }
    };
    let mut rest = &p[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The file that defines the item at absolute path `p`, following re-exports.
fn resolve(
    p: &[String],
    modules: &Modules,
    parsed: &BTreeMap<PathBuf, (Vec<String>, Parsed)>,
    depth: usize,
) -> Option<PathBuf> {
    // longest module prefix
    let mut k = p.len();
    while !modules.contains_key(&p[..k]) {
        k -= 1;
    }
    let file = modules[&p[..k]].clone();
    if depth < 8 && k < p.len() {
        let (here, pf) = &parsed[&file];
        if let Some(target) = pf.reexports.get(&p[k]) {
            if let Some(abs) = absolute(here, modules, target) {
                let mut abs = abs;
                abs.extend(p[k + 1..].iter().cloned());
                if let Some(f) = resolve(&abs, modules, parsed, depth + 1) {
                    return Some(f);
                }
            }
        }
    }
    Some(file)
}

/// Cycles (strongly connected components of more than one file) of one crate, as sorted lists
/// of paths relative to `src`.
fn cycles_of_crate(src: &Path) -> Vec<Vec<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut modules = Modules::new();
    for f in &files {
        modules
            .entry(module_path(src, f))
            .or_insert_with(|| f.clone());
    }
    // a crate with both lib.rs and main.rs: the library is the root
    if src.join("lib.rs").exists() {
        modules.insert(Vec::new(), src.join("lib.rs"));
    }
    let parsed: BTreeMap<PathBuf, (Vec<String>, Parsed)> = modules
        .iter()
        .map(|(m, f)| {
            let code = code_of(&fs::read_to_string(f).unwrap());
            (f.clone(), (m.clone(), parse(&code)))
        })
        .collect();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (f, (here, pf)) in &parsed {
        let e = edges.entry(f.clone()).or_default();
        for p in &pf.paths {
            let Some(abs) = absolute(here, &modules, p) else {
                continue;
            };
            if let Some(t) = resolve(&abs, &modules, &parsed, 0) {
                if &t != f {
                    e.insert(t);
                }
            }
        }
    }
    tarjan(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut v: Vec<String> = c
                .iter()
                .map(|f| f.strip_prefix(src).unwrap().display().to_string())
                .collect();
            v.sort();
            v
        })
        .collect()
}

/// Strongly connected components (Tarjan).
fn tarjan(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct St<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        on: BTreeSet<&'a PathBuf>,
        stack: Vec<&'a PathBuf>,
        next: usize,
        out: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut St<'a>, v: &'a PathBuf) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            let w = edges.get_key_value(w).map(|(k, _)| k).unwrap_or(w);
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            s.out.push(comp);
        }
    }
    let mut s = St {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_import_cycle_among_the_files_of_any_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let roots = crate_roots(root);
    assert!(
        roots.iter().any(|r| r.ends_with("physics/us/src")),
        "workspace members not found: {roots:?}"
    );
    let mut report = String::new();
    for src in &roots {
        for c in cycles_of_crate(src) {
            report.push_str(&format!(
                "{}: {}\n",
                src.strip_prefix(root).unwrap().display(),
                c.join(" ↔ ")
            ));
        }
    }
    assert!(report.is_empty(), "import cycles:\n{report}");
}

#[test]
fn cycle_in_a_synthetic_crate_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("fx")).unwrap();
    let w = |p: &str, s: &str| fs::write(src.join(p), s).unwrap();
    w(
        "lib.rs",
        "pub mod a;\npub mod b;\npub mod c;\npub mod fx;\npub use a::Alpha;\n",
    );
    // a → b (grouped use), b → c (inline path), c → a through the root re-export
    w(
        "a.rs",
        "use crate::{b::{Beta, other}, fx};\npub struct Alpha;\n",
    );
    w(
        "b.rs",
        "pub struct Beta;\nfn f() -> crate::c::Gamma { todo!() }\n",
    );
    w(
        "c.rs",
        "//! doc link [`crate::b::Beta`] is not a dependency\nuse crate::Alpha;\npub struct Gamma;\n",
    );
    // a directory module: the child names its parent, the parent only declares it
    w("fx/mod.rs", "pub mod inner;\npub trait Hook {}\n");
    w(
        "fx/inner.rs",
        "use super::Hook;\n#[cfg(test)]\nmod tests { use crate::a::Alpha; }\n",
    );
    let cycles = cycles_of_crate(&src);
    assert_eq!(cycles, vec![vec!["a.rs", "b.rs", "c.rs"]]);
    // break the cycle: no cycle left
    w("c.rs", "pub struct Gamma;\n");
    assert!(cycles_of_crate(&src).is_empty());
    // a parent may re-export from a child that imports the parent (an alias, not a use) …
    w(
        "fx/mod.rs",
        "pub mod inner;\npub use inner::X;\npub trait Hook {}\n",
    );
    w("fx/inner.rs", "use super::Hook;\npub struct X;\n");
    assert!(cycles_of_crate(&src).is_empty());
    // … but not use it
    w(
        "fx/mod.rs",
        "pub mod inner;\npub use inner::X;\npub trait Hook {}\nfn f(_: self::inner::X) {}\n",
    );
    assert_eq!(
        cycles_of_crate(&src),
        vec![vec!["fx/inner.rs", "fx/mod.rs"]]
    );
}
