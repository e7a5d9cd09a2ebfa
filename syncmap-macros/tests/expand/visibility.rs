/// Accessors take the field's visibility unless `accessor_vis` says otherwise; `vis` (on the
/// struct or the field) is for the `item` methods.
#[derive(Registry)]
#[registry(vis = "pub(crate)")]
pub struct Plugins {
    #[registry(item = plugin)]
    plugins: SyncMap<String, u32>,
    #[registry(item = codec, vis = "pub")]
    pub(crate) codecs: SyncMap<String, u32>,
    #[registry(accessor_vis = "pub(super)")]
    hooks: SyncMap<u8, u8>,
}
