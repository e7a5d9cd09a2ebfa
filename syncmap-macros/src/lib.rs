//! The procedural macro behind `#[derive(Registry)]`. Depend on `syncmap-typed`, which re-exports it.

use proc_macro::TokenStream;

/// Derives a typed concurrent registry; see `syncmap_typed::Registry`.
#[proc_macro_derive(Registry, attributes(registry))]
pub fn derive_registry(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
