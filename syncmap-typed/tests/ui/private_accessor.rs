// The accessor of a field is no more visible than the field: the `item` methods of a `pub`
// struct are `pub`, but the raw map of a private field stays private (outside code could
// otherwise `clear()` it).
mod registry {
    use syncmap_typed::{Registry, SyncMap};

    #[derive(Registry, Default)]
    pub struct Plugins {
        #[registry(item = plugin)]
        plugins: SyncMap<String, u32>,
    }
}

fn main() {
    let plugins = registry::Plugins::default();
    plugins.register_plugin("a".into(), 1).unwrap();
    plugins.plugins().clear();
}
