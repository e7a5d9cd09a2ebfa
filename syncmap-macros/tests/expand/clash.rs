/// Two fields generating the same methods: reported at both, neither generated.
#[derive(Registry)]
struct Clash {
    #[registry(item = user)]
    users: SyncMap<u32, String>,
    #[registry(item = user)]
    by_name: SyncMap<String, u32>,
}
