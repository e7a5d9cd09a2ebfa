use syncmap_typed::{Registry, SyncMap};

#[derive(Registry)]
struct Plugins {
    #[registry(item = 5)]
    numbers: SyncMap<String, u32>,
    #[registry(item = "quoted")]
    quoted: SyncMap<String, u32>,
    #[registry(vis = "pubb")]
    typo: SyncMap<String, u32>,
    #[registry(vis = pub)]
    unquoted: SyncMap<String, u32>,
    #[registry(item)]
    no_value: SyncMap<String, u32>,
    #[registry(item = fn)]
    keyword: SyncMap<String, u32>,
    #[registry]
    bare: SyncMap<String, u32>,
    #[registry(skip = true)]
    skip_value: u64,
}

fn main() {}
