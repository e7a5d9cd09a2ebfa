use syncmap_typed::{Registry, SyncMap};

#[derive(Registry)]
struct Plugins(SyncMap<String, u32>);

fn main() {}
