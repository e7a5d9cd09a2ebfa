// A key type that cannot be a map key is reported at the key type of the field.
use syncmap_typed::{Registry, SyncMap};

#[derive(Clone, PartialEq, Eq)]
struct NotHash(u32);

#[derive(Registry)]
struct Plugins {
    #[registry(item = plugin)]
    plugins: SyncMap<NotHash, u32>,
}

fn main() {}
