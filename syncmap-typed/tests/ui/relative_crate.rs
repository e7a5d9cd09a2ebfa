use syncmap_typed::{Registry, SyncMap};

#[derive(Registry)]
#[registry(crate = syncmap_typed)]
struct Plugins {
    #[registry(item = plugin)]
    plugins: SyncMap<String, u32>,
}

#[derive(Registry)]
#[registry(crate = self::facade)]
struct Others {
    others: SyncMap<String, u32>,
}

fn main() {}
