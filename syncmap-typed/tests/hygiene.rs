//! The generated code names everything by absolute path through `::syncmap_typed::__private`, so
//! it compiles where the prelude is missing or shadowed.

/// No prelude at all: not even `Option`, `Vec`, `Clone` or `derive`'s usual helpers.
mod no_prelude {
    #![no_implicit_prelude]

    #[derive(::syncmap_typed::Registry, ::core::default::Default)]
    pub struct Plugins {
        #[registry(item = plugin)]
        pub plugins: ::syncmap_typed::SyncMap<::std::string::String, u32>,
        #[registry(item = index)]
        pub indices: ::syncmap_typed::SyncMap<u32, ::std::vec::Vec<u8>>,
    }
}

/// Local items named like everything the generated code uses.
#[allow(dead_code)]
mod shadowed {
    use syncmap_typed::Registry;

    mod core {}
    mod std {}
    mod syncmap_core {}
    struct Option;
    struct Some;
    struct None;
    struct Result;
    struct Ok;
    struct Err;
    struct Arc;
    struct Vec;
    struct SyncMap;
    struct Ref;
    struct RegisterError;
    struct ControlFlow;
    trait Clone {}
    trait Hash {}
    trait Eq {}
    trait Borrow {}
    trait BuildHasher {}
    trait Iterator {}
    trait FnMut {}
    trait Sized {}
    // Functions named like the facade's helpers. (Not covered: a lower-case `const key` or
    // `const value` in the deriving module, which Rust would read as a constant pattern in the
    // generated parameters; mixed-site spans only protect local variables from other locals.)
    fn register() {}
    fn key() {}

    #[derive(Registry)]
    pub struct Plugins {
        #[registry(item = plugin)]
        pub plugins: ::syncmap_typed::SyncMap<u32, u32>,
    }

    pub fn new() -> Plugins {
        Plugins {
            plugins: ::syncmap_typed::SyncMap::new(),
        }
    }
}

#[test]
fn works_without_a_prelude() {
    let plugins = no_prelude::Plugins::default();
    plugins.register_plugin("a".to_string(), 1).unwrap();
    assert!(plugins.register_plugin("a".to_string(), 2).is_err());
    assert_eq!(plugins.plugin("a").as_deref(), Some(&1));
    plugins.register_index(1, vec![1, 2]).unwrap();
    assert_eq!(plugins.index_snapshot().len(), 1);
    assert!(plugins
        .for_each_index(|_, v| std::ops::ControlFlow::Break(v.len()))
        .is_break());
    assert_eq!(plugins.remove_index(&1).as_deref(), Some(&vec![1, 2]));
}

#[test]
fn works_beside_shadowing_items() {
    let plugins = shadowed::new();
    plugins.register_plugin(1, 10).unwrap();
    assert_eq!(plugins.replace_plugin(1, 11).as_deref(), Some(&10));
    assert_eq!(plugins.plugin(&1).as_deref(), Some(&11));
    assert!(plugins.contains_plugin(&1));
    assert_eq!(plugins.plugin_snapshot().len(), 1);
    assert_eq!(plugins.plugins().len(), 1);
}
