use syncmap_typed::{Registry, SyncMap};

#[derive(Registry)]
#[registry(crat = ::syncmap_typed, item = x)]
struct Plugins {
    #[registry(itme = plugin)]
    plugins: SyncMap<String, u32>,
    #[registry(crate = ::syncmap_typed)]
    other: SyncMap<String, u32>,
    #[registry(visibility = "pub")]
    third: SyncMap<String, u32>,
}

fn main() {}
