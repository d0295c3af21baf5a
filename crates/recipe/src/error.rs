//! The one error type of artefact-recipe: always the file, and where known line, column and key.

use std::fmt;
use std::path::{Path, PathBuf};

/// A recipe problem, located in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipeError {
    pub file: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub line: Option<usize>,
    pub col: Option<usize>,
    /// Dotted key path (e.g. `ops[0].severe.translation_mm`), when known.
    pub key: Option<String>,
    pub message: String,
}

impl RecipeError {
    pub fn new(file: &Path, message: impl Into<String>) -> Self {
        RecipeError {
            file: file.to_path_buf(),
            line: None,
            col: None,
            key: None,
            message: message.into(),
        }
    }

    /// Locate the error at a byte span of `src`.
    pub fn at(mut self, src: &str, span: std::ops::Range<usize>) -> Self {
        let (l, c) = line_col(src, span.start);
        self.line = Some(l);
        self.col = Some(c);
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

impl fmt::Display for RecipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let (Some(l), Some(c)) = (self.line, self.col) {
            write!(f, ":{l}:{c}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": `{k}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RecipeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let s = "a = 1\nbb = 2\n  c = 3";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 6), (2, 1));
        assert_eq!(line_col(s, 15), (3, 3));
        let e = RecipeError::new(Path::new("r.toml"), "bad")
            .at(s, 15..16)
            .key("c");
        assert_eq!(e.to_string(), "r.toml:3:3: `c`: bad");
    }
}
