// A `SyncMap` with one type argument is the compiler's error to report (once, with its hint to
// add the missing argument); the derive adds none of its own.
use syncmap_typed::{Registry, SyncMap};

#[derive(Registry)]
struct Plugins {
    #[registry(item = plugin)]
    plugins: SyncMap<u32>,
}

fn main() {}
