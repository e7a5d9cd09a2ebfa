use syncmap_typed::{Registry, SyncMap};

#[derive(Registry)]
struct Users {
    #[registry(item = user)]
    by_id: SyncMap<u32, String>,
    #[registry(item = user)]
    by_name: SyncMap<String, u32>,
    // The accessor `register_group` clashes with the `item` method of `groups`.
    register_group: SyncMap<u32, u32>,
    #[registry(item = group)]
    groups: SyncMap<u32, u32>,
    // A field whose accessor clashes with its own lookup method.
    #[registry(item = role)]
    role: SyncMap<u32, u32>,
}

fn main() {}
