use syncmap_typed::Registry;

#[derive(Registry)]
struct Plugins;

fn main() {}
