//! Runs the differential target on stable, with no fuzzing tool: every input of the committed
//! corpus (`corpus/diff/`, including inputs AFL++ found and `.ci/fuzz.sh` minimized there), then
//! a batch of generated inputs. `SYNCMAP_FUZZ_CASES` sets the batch size (default 2,000).

use std::fs;
use std::path::Path;

#[test]
fn committed_corpus_replays_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/diff");
    let mut files = 0;
    let mut ops = 0;
    for entry in fs::read_dir(&dir).expect("corpus/diff exists") {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        ops += syncmap_fuzz::run(&data);
        files += 1;
    }
    assert!(
        files >= 8,
        "seed corpus missing: {files} files in {}",
        dir.display()
    );
    println!("corpus: {files} inputs, {ops} operations replayed");
}

#[test]
fn generated_inputs() {
    let cases: usize = std::env::var("SYNCMAP_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let mut x = 0x853C_49E6_748F_EA9B_u64;
    let mut ops = 0;
    for case in 0..cases {
        let len = 1 + case % 600;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        ops += syncmap_fuzz::run(&data);
    }
    println!("generated: {cases} inputs, {ops} operations");
}
