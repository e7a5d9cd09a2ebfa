use syncmap_typed::{Registry, SyncMap};

#[derive(Registry)]
struct Plugins {
    #[registry(skip, item = plugin)]
    plugins: SyncMap<String, u32>,
    #[registry(vis = "pub", skip)]
    count: u64,
}

fn main() {}
