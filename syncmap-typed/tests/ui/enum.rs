use syncmap_typed::Registry;

#[derive(Registry)]
enum Plugins {
    A,
    B,
}

fn main() {}
