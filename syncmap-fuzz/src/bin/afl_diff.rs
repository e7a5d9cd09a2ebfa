//! AFL++ entry point for the differential target: `cargo afl build -p syncmap-fuzz --features
//! afl --bin afl_diff`, then `cargo afl fuzz -i syncmap-fuzz/corpus/diff -o OUT BINARY`
//! (`.ci/fuzz.sh` does both).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        syncmap_fuzz::run(data);
    });
}
