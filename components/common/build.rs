//! The migrations (`migrations/*.sql`, in the order of their names), cut to their statements
//! and packed (`src/db/packing.rs`), for `src/db/migrations.rs` to embed: `migrations.lz`
//! (the migrations one after another, each ended by a NUL) and `migrations.rs` (their count).

use std::path::Path;

include!("src/db/packing.rs");

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    // A directory: any change in it (a new file, an edit) builds again.
    println!("cargo::rerun-if-changed={}", dir.display());
    // `0001_schema.sql`...: four digits, `_`, a name, `.sql`; anything else there (an
    // editor's lock file, notes) is not a migration.
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a migration").path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let bytes = name.as_bytes();
            name.len() > 9
                && bytes[..4].iter().all(u8::is_ascii_digit)
                && bytes[4] == b'_'
                && name.ends_with(".sql")
                && !name[..name.len() - 4].contains('.')
        })
        .collect();
    files.sort();
    let mut all = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert_eq!(
            name[..4],
            format!("{:04}", i + 1),
            "migrations are numbered 0001 on, without gaps"
        );
        let source = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            std::str::from_utf8(&source).is_ok(),
            "{}: not UTF-8",
            file.display()
        );
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
