// Several mistakes in one struct are all reported at once, and the fields without mistakes keep
// every generated method: `main` compiles apart from the attribute errors above it.
use syncmap_typed::{Registry, SyncMap};

#[derive(Registry, Default)]
struct Plugins {
    #[registry(item = plugin)]
    plugins: SyncMap<String, u32>,
    #[registry(item = 5)]
    broken: SyncMap<String, u32>,
    #[registry(itme = codec)]
    codecs: SyncMap<String, u32>,
    counter: u64,
}

fn main() {
    let plugins = Plugins::default();
    plugins.register_plugin("a".into(), 1).unwrap();
    assert_eq!(plugins.plugin("a").as_deref(), Some(&1));
    // `broken` and `codecs` keep their accessors.
    assert!(plugins.broken().is_empty());
    assert!(plugins.codecs().is_empty());
}
