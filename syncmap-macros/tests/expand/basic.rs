/// The README's registry: one map with an `item`, one without.
#[derive(Registry, Default)]
pub struct Services {
    /// HTTP handlers by route.
    #[registry(item = handler)]
    handlers: SyncMap<String, Arc<dyn Handler>>,
    plain: SyncMap<String, u64>,
}
