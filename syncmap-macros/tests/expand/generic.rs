/// Generics, a where clause, a lifetime, a custom hasher, a `vis` override, a `cfg`, raw
/// identifiers, a skipped field and a renamed facade.
#[derive(Registry)]
#[registry(crate = ::my_facade::typed)]
pub(crate) struct Index<'a, K, V: Send, S = RandomState>
where
    K: Eq + Hash + Clone,
{
    #[registry(item = entry, vis = "pub")]
    entries: SyncMap<K, Arc<V>, S>,
    #[cfg(feature = "names")]
    #[registry(item = r#type)]
    types: SyncMap<&'a str, u32>,
    r#loop: SyncMap<u8, u8>,
    #[registry(skip)]
    hits: AtomicU64,
}
