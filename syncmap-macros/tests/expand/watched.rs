/// A watched map: its changing methods notify, and `watch_configs` hands out watchers.
#[derive(Registry, Default)]
pub struct Settings {
    #[registry(item = config)]
    configs: Watched<String, Arc<Config>>,
}
