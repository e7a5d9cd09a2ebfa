//! Compile-fail tests of `#[derive(Registry)]`: each `tests/ui/NAME.rs` must fail to compile
//! with exactly the diagnostics in `tests/ui/NAME.stderr`.
//!
//! The `.stderr` snapshots were made with the toolchain pinned in `rust-toolchain.toml`
//! (rustc 1.95.0). Compiler upgrades change diagnostics: after changing the pin, regenerate them
//! with `TRYBUILD=overwrite cargo test -p syncmap-typed --test ui` and review the diff.

use std::path::Path;

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    // Diagnostics that quote syncmap-core's source show its path, which is not the same in this
    // workspace and in a published package: those cases run in the workspace only.
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../syncmap-core/src/map.rs");
    if core.exists() {
        cases.compile_fail("tests/ui-workspace/*.rs");
    }
}
