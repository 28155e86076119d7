//! Every spec in specs/ (with its default constants and 128-bit
//! fingerprints too) generates a kernel that naga parses and validates.

use std::collections::HashMap;
use std::path::Path;

use gpu_kernels::codegen::{Options, fingerprint_kernel, generate, validate};

fn specs() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .expect("specs/ exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "fathom"))
        .collect();
    out.sort();
    assert!(out.len() >= 10, "the spec suite is there");
    out
}

#[test]
fn every_spec_generates_valid_wgsl() {
    for path in specs() {
        let text = std::fs::read_to_string(&path).expect("spec readable");
        let source = model::Source::new(path.display().to_string(), text);
        let model = model::compile(&source, &HashMap::new()).expect("spec compiles");
        for (fp128, buffers) in [(false, 1), (true, 3)] {
            let kernel = generate(
                &model,
                Options {
                    fp128,
                    table_buffers: buffers,
                },
            )
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if let Err(e) = validate(&kernel.source) {
                let dump = std::env::temp_dir().join("fathom-invalid.wgsl");
                let _ = std::fs::write(&dump, &kernel.source);
                panic!(
                    "{}: invalid WGSL (written to {}):\n{e}",
                    path.display(),
                    dump.display()
                );
            }
        }
    }
}

#[test]
fn fingerprint_kernels_are_valid() {
    for words in [1, 2, 7] {
        for fp128 in [false, true] {
            validate(&fingerprint_kernel(words, fp128)).expect("valid fingerprint kernel");
        }
    }
}
