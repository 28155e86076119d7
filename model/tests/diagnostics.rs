//! Snapshot tests of spec errors: each `specs/errors/NAME.fathom` is
//! compiled and its rendered diagnostics compared with `NAME.stderr`.
//! `UPDATE_EXPECT=1 cargo test` rewrites the snapshots.

use std::collections::HashMap;
use std::path::Path;

use model::{CompileError, Source};

#[test]
fn error_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/errors");
    let mut specs: Vec<_> = std::fs::read_dir(&dir)
        .expect("specs/errors exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "fathom"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 5, "the error corpus is there");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut mismatches = Vec::new();
    for path in specs {
        let name = format!(
            "specs/errors/{}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let source = Source::new(
            name.clone(),
            std::fs::read_to_string(&path).expect("read spec"),
        );
        let rendered = match model::compile(&source, &HashMap::new()) {
            Ok(_) => panic!("{name} must be rejected"),
            Err(CompileError::Spec(d)) => model::diagnostic::render_all(&d, &source, false),
            Err(e) => panic!("{name}: {e}"),
        };
        let expected_path = path.with_extension("stderr");
        if update {
            std::fs::write(&expected_path, &rendered).expect("write snapshot");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != rendered {
            mismatches.push(format!(
                "{name}:\n--- expected\n{expected}\n--- got\n{rendered}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "diagnostics changed (UPDATE_EXPECT=1 to accept):\n{}",
        mismatches.join("\n")
    );
}
