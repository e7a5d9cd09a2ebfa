//! The procedural macro behind `#[derive(Registry)]`.
//!
//! Depend on [`syncmap-typed`](https://docs.rs/syncmap-typed), which re-exports the derive and
//! holds the types and the hidden module that the generated code refers to; this crate alone is
//! of no use.

// Parse (`attr`, `ast`), check (`valid`), emit (`expand`).
mod ast;
mod attr;
mod expand;
#[cfg(test)]
mod snapshots;
mod valid;

use proc_macro::TokenStream;

/// (The derive is implemented in the `syncmap-macros` crate and re-exported here.)
#[proc_macro_derive(Registry, attributes(registry))]
pub fn derive_registry(input: TokenStream) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => expand::expand(&input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
