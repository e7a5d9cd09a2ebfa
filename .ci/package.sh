#!/usr/bin/env bash
# Packages the published crates as crates.io would receive them and tests each from its unpacked
# `.crate`. Run from anywhere as `bash .ci/package.sh`; CI runs it as one step.
#
# 1. The license files in every crate directory are byte-for-byte the root ones.
# 2. `cargo package` packages the three crates together; its verification builds each one from
#    its package, resolving the unpublished `syncmap-*` dependencies through the local registry
#    overlay that `cargo package` sets up for crates packaged in the same run (cargo >= 1.90).
# 3. Each package holds its README and both license files, and its README links to no file that
#    is missing from the package.
# 4. Each package's tests run from the unpacked copy, with the `syncmap-*` dependencies patched
#    to the sibling unpacked copies (what a user gets once all three are published): plain
#    `cargo test` and with every feature on.
#
# Cost: the build artifacts go to the workspace's target directory (registry dependencies are
# shared with the normal build), and syncmap-core's long tiers are left to `.ci/correctness.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
crates=(syncmap-core syncmap-macros syncmap-typed)
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
fail=0
note() { printf -- '--- %s\n' "$*"; }
bad() {
    printf 'FAIL: %s\n' "$*"
    fail=1
}

note "license files in each crate directory match the root ones"
for crate in "${crates[@]}"; do
    for file in LICENSE-MIT LICENSE-APACHE; do
        cmp -s "$file" "$crate/$file" || bad "$crate/$file differs from ./$file (copy it again)"
    done
done

# `cargo package` verifies each crate against the others through a local registry overlay whose
# sources cargo extracts under CARGO_HOME once per overlay path and never refreshes: a second run
# from the same checkout path would verify against the first run's sources. Remove those copies
# of our own crates (overlay registries are the `-<hash>` directories; crates.io's have a name).
for crate in "${crates[@]}"; do
    rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/"$crate-$version"
done

note "cargo package (with verification)"
# --allow-dirty: CI may run on a tree with uncommitted changes; the package is still built from
# the files cargo would publish.
packages=()
for crate in "${crates[@]}"; do packages+=(-p "$crate"); done
cargo package --allow-dirty "${packages[@]}" 2>&1 |
    grep -Ev '^ +(Compiling|Checking|Updating|Unpacking|Downloaded|Downloading)' || true
test "${PIPESTATUS[0]}" -eq 0 || { bad "cargo package"; exit 1; }

# Unpacked outside the repository: inside it, cargo would take each package for an unlisted
# member of this workspace.
unpacked="${SYNCMAP_PACKAGE_DIR:-${TMPDIR:-/tmp}/syncmap-package-check}"
rm -rf "$unpacked"
mkdir -p "$unpacked"
for crate in "${crates[@]}"; do
    # -m: give the files the time of extraction, not the archive's; with the archive's (older
    # than the artifacts of the previous run) cargo would take a changed package for unchanged.
    tar -xzmf "$CARGO_TARGET_DIR/package/$crate-$version.crate" -C "$unpacked"
done

note "package contents"
for crate in "${crates[@]}"; do
    dir="$unpacked/$crate-$version"
    for file in README.md LICENSE-MIT LICENSE-APACHE; do
        test -f "$dir/$file" || bad "$crate: the package has no $file"
    done
    # Relative Markdown links in the README must name files inside the package.
    grep -o '](\([^)]*\))' "$dir/README.md" | sed 's/^](\(.*\))$/\1/' |
        grep -Ev '^(https?:|mailto:|#)' | sed 's/#.*//' | while read -r link; do
        test -e "$dir/$link" || echo "$link"
    done >"$unpacked/$crate.missing"
    if test -s "$unpacked/$crate.missing"; then
        bad "$crate: README links to files not in the package: $(tr '\n' ' ' <"$unpacked/$crate.missing")"
    fi
done

# The `syncmap-*` dependencies of each package resolve to the sibling packages instead of
# crates.io, as they will once all three are published. The patch goes into each unpacked
# manifest (not `--config`) because trybuild, which builds the UI tests as a project of its own,
# copies `[patch]` from the manifest.
for crate in "${crates[@]}"; do
    {
        printf '\n# Added by .ci/package.sh: resolve the unpublished siblings from their packages.\n'
        printf '[patch.crates-io]\n'
        for dep in "${crates[@]}"; do
            test "$dep" = "$crate" || printf '%s = { path = "../%s-%s" }\n' "$dep" "$dep" "$version"
        done
    } >>"$unpacked/$crate-$version/Cargo.toml"
done
test_package() {
    local crate="$1"
    shift
    note "cargo test from the unpacked $crate package $*"
    local log="$unpacked/$crate.log" status=0
    (cd "$unpacked/$crate-$version" && cargo test -q "$@") >"$log" 2>&1 ||
        status=$?
    grep -Ev '^(running [0-9]+ tests?|test result: ok\..*|\.+|)$' "$log" || true
    return "$status"
}

# syncmap-core: most of its integration tests inspect the algorithm through its `testing`
# feature, which the workspace enables through a dev-dependency of the crate on itself. `cargo
# package` drops that dependency, so those tests declare `required-features = ["testing"]`: a
# plain `cargo test` of the package must compile and pass (skipping them), and with the features
# on, every test runs.
# (The plain run skips the doctests, which the second run compiles and runs.)
test_package syncmap-core --tests || bad "syncmap-core tests (plain cargo test --tests)"
test_package syncmap-core --features testing,serde || bad "syncmap-core tests (--features testing,serde)"
test_package syncmap-macros || bad "syncmap-macros tests"
test_package syncmap-typed --all-features || bad "syncmap-typed tests"

if test "$fail" -ne 0; then
    printf 'package check FAILED\n'
    exit 1
fi
printf 'package check passed: %s\n' "${crates[*]}"
