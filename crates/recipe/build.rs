//! Embeds every file under the workspace's `recipes/` folder in the library (see
//! `src/bundled.rs`): the generated `bundled.rs` in `OUT_DIR` lists `(relative path, text)`
//! pairs read with `include_str!`, so the `artefact` binary finds its recipes without the
//! source tree. Files added under `recipes/` are picked up on the next build.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn main() {
    // build scripts run in the package directory: the workspace's recipes/ is two levels up
    let root = Path::new("../../recipes");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", root.display());
    let root = std::fs::canonicalize(root).expect("the workspace's recipes/ folder");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut src = String::from(
        "/// Every file under the workspace's `recipes/` folder at build time: \
         `(path relative to recipes/ with `/` separators, text)`, sorted by path.\n\
         pub static FILES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        // directories are watched for added/removed files, files for edits
        println!("cargo:rerun-if-changed={}", f.display());
        if let Some(parent) = f.parent() {
            println!("cargo:rerun-if-changed={}", parent.display());
        }
        let rel: Vec<String> = f
            .strip_prefix(&root)
            .expect("under recipes/")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        src.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            rel.join("/"),
            f.display().to_string()
        ));
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("bundled.rs");
    std::fs::write(out, src).expect("write bundled.rs");
}
