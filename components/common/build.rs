//! The migrations (`migrations/*.sql`, in the order of their names), cut to their statements
//! and packed (`src/db/packing.rs`), for `src/db/migrations.rs` to embed: `migrations.lz`
//! (the migrations one after another, each ended by a NUL) and `migrations.rs` (their count).

use std::path::Path;

include!("src/db/packing.rs");

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    // A directory: any change in it (a new file, an edit) builds again.
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a migration").path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for file in &files {
        let source = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!source.contains(&0), "{}: a NUL byte", file.display());
        all.extend(compact(&source));
        all.push(0);
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("migrations.lz"), pack(&all)).expect("migrations.lz");
    std::fs::write(
        out.join("migrations.rs"),
        format!(
            "/// How many migrations there are.\npub const COUNT: usize = {};\n",
            files.len()
        ),
    )
    .expect("migrations.rs");
}
