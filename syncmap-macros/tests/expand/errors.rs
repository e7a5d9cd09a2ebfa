/// Several mistakes at once: each is reported, and the valid field still gets its methods.
#[derive(Registry)]
struct Broken {
    #[registry(item = ok)]
    fine: SyncMap<u32, u32>,
    #[registry(itme = typo, item = 5)]
    typo: SyncMap<u32, u32>,
    count: u64,
}
