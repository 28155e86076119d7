//! Every spec in specs/ (with its default constants, and 128-bit
//! fingerprints too) gives search kernels that naga parses and validates,
//! for both table schemes and with every array split over several
//! buffers or in one.

use std::collections::HashMap;
use std::path::Path;

use gpu_kernels::codegen::{Options, fingerprint_kernel, generate, validate};
use gpu_kernels::search::kernels::{self, Scheme, Shape, Split};

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

fn shape(code: gpu_kernels::ModelCode, scheme: Scheme, buffers: u32, subgroups: bool) -> Shape {
    let w = code.words;
    let i = code.instances.max(1);
    let r = i.div_ceil(16).next_power_of_two().min(64);
    let k = i.div_ceil(r);
    let slot_words = match scheme {
        Scheme::Key64 => 4,
        Scheme::Words32 => (code.fp_words * 32).div_ceil(31) + 2,
    };
    let split = |elem_words| Split { elem_words, per_buffer: 1000, buffers };
    Shape {
        scheme,
        k,
        r,
        table_slots: 1000 * buffers - 1,
        table: split(slot_words),
        frontier: split(w),
        pool: split(w + 3),
        retry_cap: 100,
        items_cap: 4096,
        scratch_words: 4096,
        out_cap: 1000,
        subgroups,
        model: code,
    }
}

#[test]
fn every_spec_generates_valid_wgsl() {
    for path in specs() {
        let text = std::fs::read_to_string(&path).expect("spec readable");
        let source = model::Source::new(path.display().to_string(), text);
        let model = model::compile(&source, &HashMap::new()).expect("spec compiles");
        // With and without --coverage's counters, on each table format.
        for (fp128, scheme, buffers, subgroups, coverage) in [
            (false, Scheme::Key64, 1, false, false),
            (false, Scheme::Key64, 2, true, true),
            (false, Scheme::Words32, 3, false, true),
            (true, Scheme::Words32, 1, false, false),
            (false, Scheme::Key64, 1, false, true),
        ] {
            let code = generate(&model, Options { fp128, symmetry: true, coverage })
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for k in kernels::all(&shape(code, scheme, buffers, subgroups)) {
                if let Err(e) = validate(&k.source, scheme == Scheme::Key64, subgroups) {
                    let dump = std::env::temp_dir().join(format!("fathom-invalid-{}.wgsl", k.name));
                    let _ = std::fs::write(&dump, &k.source);
                    panic!(
                        "{} ({scheme:?}, {buffers} buffers): kernel {} is invalid WGSL (written to {}):\n{e}",
                        path.display(),
                        k.name,
                        dump.display()
                    );
                }
            }
        }
    }
}

#[test]
fn fingerprint_kernels_are_valid() {
    for words in [1, 2, 7] {
        for fp128 in [false, true] {
            validate(&fingerprint_kernel(words, fp128), false, false)
                .expect("valid fingerprint kernel");
        }
    }
}
