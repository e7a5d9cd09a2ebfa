use syncmap_typed::Registry;

#[derive(Registry)]
union Bits {
    a: u32,
    b: f32,
}

fn main() {}
