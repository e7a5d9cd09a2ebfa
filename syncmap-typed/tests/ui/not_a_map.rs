use std::collections::HashMap;
use syncmap_typed::{Registry, SyncMap};

type Users = SyncMap<u32, String>;

#[derive(Registry)]
struct Registry1 {
    names: Vec<String>,
    // Aliases are not seen through: the message suggests `#[registry(skip)]`.
    users: Users,
    index: HashMap<String, u32>,
    ok: SyncMap<u32, u32>,
}

fn main() {
    // The valid field still has its accessor: no error here.
    let registry = Registry1 {
        names: Vec::new(),
        users: SyncMap::new(),
        index: HashMap::new(),
        ok: SyncMap::new(),
    };
    registry.ok().insert(1, 1);
}
