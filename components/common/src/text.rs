//! Text helpers the components share.

/// `parts` joined by `sep`: one small loop per element type, where `[S]::join` inlines a
/// kilobyte-sized copy routine for each.
pub fn join<S: AsRef<str>>(parts: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(part.as_ref());
    }
    out
}
