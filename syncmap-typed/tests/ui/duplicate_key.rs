use syncmap_typed::{Registry, SyncMap};

#[derive(Registry)]
#[registry(vis = "pub")]
#[registry(vis = "pub(crate)")]
pub struct Plugins {
    #[registry(item = plugin, item = extension)]
    plugins: SyncMap<String, u32>,
    #[registry(skip)]
    #[registry(skip)]
    count: u64,
}

fn main() {}
