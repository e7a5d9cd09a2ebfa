//! Emitting: the generated `impl`, from an [`Input`] that `valid.rs` has checked.
//!
//! Bounds on concrete types (`String: Hash`) are never written on the generated methods, where
//! the docs would show them and where a type that fails them would be reported once per method.
//! Each field with `item` methods instead gets one hidden method that hands out the map as
//! `&impl RegistryMap<K, V>`: the compiler checks the map's bounds there, once, and the item
//! methods call the map through that trait. Only bounds that mention a generic parameter of the
//! struct are written out, on every method that needs them.

use crate::ast::{is_arc, Field, Input, Kind, Method};
use crate::attr::{self, Errors};
use crate::valid;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, GenericParam, Ident, Visibility};

/// Expands the derive: the generated `impl` followed by every error found, so that one mistake
/// does not hide the methods of the fields that are fine.
pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let Some(input) = Input::from_syn(input, &mut errors) else {
        return errors.into_compile_errors();
    };
    let omitted = valid::validate(&input, &mut errors);
    let ctx = Context::new(&input);
    let mut methods = Vec::new();
    for (index, field) in input.fields.iter().enumerate() {
        let Some(map) = field.map() else {
            continue;
        };
        let gen = FieldGen::new(&ctx, &input, field, map);
        for (method, name) in field.methods() {
            if !omitted.contains(&(index, method)) {
                methods.push(gen.method(method, &name));
            }
        }
        if field.attrs.item.is_some() {
            methods.push(gen.ops());
        }
    }
    let name = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let errors = errors.into_compile_errors();
    quote! {
        #[allow(dead_code)]
        impl #impl_generics #name #ty_generics #where_clause {
            #(#methods)*
        }
        #errors
    }
}

/// What every generated method needs to know about the derive as a whole.
struct Context {
    /// The hidden re-export module of the facade, as an absolute path.
    private: TokenStream,
    /// The same module as text, for intra-doc links.
    link: String,
    /// A name for the borrowed-key type parameter that no parameter of the struct uses.
    fresh_q: Ident,
    /// A name for the `ControlFlow` break type parameter, chosen likewise.
    fresh_b: Ident,
    /// The struct's type and const parameters: a bound is written out only on types that
    /// mention one.
    params: Vec<String>,
}

impl Context {
    fn new(input: &Input<'_>) -> Self {
        let krate = input
            .attrs
            .krate
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(::syncmap_typed));
        let taken: Vec<String> = input
            .generics
            .params
            .iter()
            .map(|param| match param {
                GenericParam::Type(t) => t.ident.to_string(),
                GenericParam::Const(c) => c.ident.to_string(),
                GenericParam::Lifetime(l) => l.lifetime.ident.to_string(),
            })
            .collect();
        let params = input
            .generics
            .params
            .iter()
            .filter_map(|param| match param {
                GenericParam::Type(t) => Some(t.ident.to_string()),
                GenericParam::Const(c) => Some(c.ident.to_string()),
                GenericParam::Lifetime(_) => None,
            })
            .collect();
        Context {
            private: quote!(#krate::__private),
            link: format!("{}::__private", attr::path_string(&krate)),
            fresh_q: fresh_ident("Q", &taken),
            fresh_b: fresh_ident("B", &taken),
            params,
        }
    }

    /// Whether `tokens` name a type or const parameter of the struct.
    fn mentions_param(&self, tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => self.params.iter().any(|p| ident == p),
            TokenTree::Group(group) => self.mentions_param(group.stream()),
            _ => false,
        })
    }
}

/// The methods of one map field.
struct FieldGen<'a> {
    ctx: &'a Context,
    field: &'a Field<'a>,
    key: &'a syn::Type,
    value: &'a syn::Type,
    watched: bool,
    /// The visibility of the `item` methods and of `watch_*`.
    vis: Visibility,
    /// The hidden method that hands out the map as `&impl RegistryMap<K, V>`.
    ops: Ident,
    /// The bounds every method that calls `ops` repeats: those on generic types only.
    bounds: Vec<TokenStream>,
}

impl<'a> FieldGen<'a> {
    fn new(
        ctx: &'a Context,
        input: &Input<'_>,
        field: &'a Field<'a>,
        map: &'a crate::ast::MapType<'a>,
    ) -> Self {
        let p = &ctx.private;
        let (k, s) = (map.key, map.hasher);
        let mut bounds = Vec::new();
        // Bounds carry the span of the type they constrain, so an unsuitable type is reported
        // at the field's type rather than at the derive.
        if ctx.mentions_param(quote!(#k)) {
            bounds.push(respan(quote!(#k: #p::Eq + #p::Hash + #p::Clone), k.span()));
        }
        if let Some(s) = s.filter(|s| ctx.mentions_param(quote!(#s))) {
            bounds.push(respan(quote!(#s: #p::BuildHasher), s.span()));
        }
        let vis = field
            .attrs
            .vis
            .clone()
            .or_else(|| input.attrs.vis.clone())
            .unwrap_or_else(|| input.vis.clone());
        FieldGen {
            ctx,
            field,
            key: k,
            value: map.value,
            watched: matches!(field.kind, Kind::Watched(_)),
            vis,
            ops: format_ident!("__registry_{}", field.name),
            bounds,
        }
    }

    /// For a `Watched` field, the statement that wakes its watchers; nothing otherwise.
    fn notify(&self) -> TokenStream {
        let p = &self.ctx.private;
        let field = self.field.ident;
        if self.watched {
            quote!(#p::Watched::notify(&self.#field);)
        } else {
            TokenStream::new()
        }
    }

    /// `fn __registry_handlers(&self) -> &impl RegistryMap<K, V>`, the one place where the
    /// compiler checks that the map's key and hasher can be used.
    fn ops(&self) -> TokenStream {
        let Self {
            field,
            key,
            value,
            ops,
            ..
        } = self;
        let p = &self.ctx.private;
        let ident = field.ident;
        let cfgs = &field.cfgs;
        let map = if self.watched {
            quote!(#p::Watched::map(&self.#ident))
        } else {
            quote!(&self.#ident)
        };
        let where_clause = where_clause(&self.bounds);
        // At the key's span: a key type that is not `Eq + Hash + Clone` is reported there, once.
        quote_spanned! {key.span()=>
            #(#cfgs)*
            #[doc(hidden)]
            #[inline]
            fn #ops(&self) -> &impl #p::RegistryMap<#key, #value> #where_clause {
                #map
            }
        }
    }

    fn method(&self, method: Method, name: &Ident) -> TokenStream {
        let ctx = self.ctx;
        let p = &ctx.private;
        let field = self.field.ident;
        let cfgs = &self.field.cfgs;
        let (k, v) = (self.key, self.value);
        if method == Method::Accessor {
            return self.accessor();
        }
        let item = self.field.attrs.item.as_ref();
        let item_name = item.map_or_else(|| self.field.name.clone(), ident_name);
        let wraps = |text: &str, wraps: &str| {
            format!(
                " {} Wraps [`SyncMap::{wraps}`]({}::SyncMap::{wraps}).",
                text.replace("{}", &item_name),
                ctx.link
            )
        };
        // Locals get mixed-site hygiene, so they cannot clash with names in the user's tokens.
        // (A lower-case `const key` in the deriving module would still be read as a pattern.)
        let key = Ident::new("key", Span::mixed_site());
        let value = Ident::new("value", Span::mixed_site());
        let f = Ident::new("f", Span::mixed_site());
        let (q, b, ops) = (&ctx.fresh_q, &ctx.fresh_b, &self.ops);
        // The value of the wrapped call, inside `then`.
        let out_value = Ident::new("out", Span::mixed_site());
        let map = quote!(self.#ops());
        let borrow = {
            let mut bounds = self.bounds.clone();
            bounds.push(respan(quote!(#k: #p::Borrow<#q>), k.span()));
            bounds.push(quote!(#q: #p::Eq + #p::Hash + ?#p::Sized));
            where_clause(&bounds)
        };
        let plain = where_clause(&self.bounds);
        // A value written `Arc<T>` is handed out as that `Arc` (a reference-count increment)
        // rather than as `Arc<Arc<T>>`; any other value as the map's own `Arc<V>`.
        let arc_value = is_arc(v);
        let out = if arc_value {
            quote!(#v)
        } else {
            quote!(#p::Arc<#v>)
        };
        let unwrap = |expr: TokenStream| {
            if arc_value {
                quote!(#p::Option::map(#expr, #p::Arc::unwrap_or_clone))
            } else {
                expr
            }
        };
        // For a `Watched` field, wake the watchers after a change made through these methods.
        let notify_if = |changed: TokenStream| {
            let notify = self.notify();
            if self.watched {
                quote!(if #changed { #notify })
            } else {
                notify
            }
        };
        let item_str = item_name.as_str();
        let (doc, must_use, signature, body) = match method {
            Method::Accessor => unreachable!("handled above"),
            Method::Register => {
                let notify = notify_if(quote!(#p::Result::is_ok(&#out_value)));
                let summary = wraps(
                    "Registers `value` as the `{}` of `key` unless the key already has one.",
                    "try_insert",
                );
                let errors = format!(
                    " Returns a [`RegisterError`]({}::RegisterError) holding `key` and \
                     `value` when `key` already has a `{item_name}`; the map is then unchanged.",
                    ctx.link
                );
                (
                    doc(&format!("{summary}\n\n # Errors\n\n{errors}")),
                    false,
                    quote! {
                        (&self, #key: #k, #value: #v) -> #p::Result<(), #p::RegisterError<#k, #v>>
                        #plain
                    },
                    then(
                        quote!(#p::RegistryMap::register(#map, #item_str, #key, #value)),
                        notify,
                    ),
                )
            }
            Method::Replace => {
                let call = unwrap(quote!(#p::RegistryMap::insert(#map, #key, #value)));
                let notify = self.notify();
                (
                    doc(&wraps(
                        "Sets the `{}` of `key`, registered or not, and returns the one it \
                         replaces (a hot swap).",
                        "insert",
                    )),
                    false,
                    quote!((&self, #key: #k, #value: #v) -> #p::Option<#out> #plain),
                    then(call, notify),
                )
            }
            Method::Lookup => {
                let (text, wrapped, call) = if arc_value {
                    (
                        "The `{}` registered under `key`: a clone of its `Arc` (never a lock \
                         guard).",
                        "get_cloned",
                        quote!(get_cloned),
                    )
                } else {
                    (
                        "The `{}` registered under `key`, as an owned `Arc` (never a lock guard).",
                        "get_arc",
                        quote!(get_arc),
                    )
                };
                (
                    doc(&wraps(text, wrapped)),
                    true,
                    quote!(<#q>(&self, #key: &#q) -> #p::Option<#out> #borrow),
                    quote!(#p::RegistryMap::#call(#map, #key)),
                )
            }
            Method::Remove => {
                let call = unwrap(quote!(#p::RegistryMap::remove(#map, #key)));
                let notify = notify_if(quote!(#p::Option::is_some(&#out_value)));
                (
                    doc(&wraps(
                        "Unregisters the `{}` of `key` and returns it.",
                        "remove",
                    )),
                    false,
                    quote!(<#q>(&self, #key: &#q) -> #p::Option<#out> #borrow),
                    then(call, notify),
                )
            }
            Method::Contains => (
                doc(&wraps(
                    "Whether a `{}` is registered under `key`.",
                    "contains_key",
                )),
                true,
                quote!(<#q>(&self, #key: &#q) -> bool #borrow),
                quote!(#p::RegistryMap::contains_key(#map, #key)),
            ),
            Method::ForEach => (
                doc(&wraps(
                    "Calls `f` on each registered `{}` until it returns `ControlFlow::Break`.",
                    "for_each",
                )),
                false,
                quote! {
                    <#b>(&self, #f: impl #p::FnMut(&#k, &#v) -> #p::ControlFlow<#b>)
                        -> #p::ControlFlow<#b> #plain
                },
                quote!(#p::RegistryMap::for_each(#map, #f)),
            ),
            Method::Snapshot => (
                doc(&wraps(
                    "Every registered `{}` with its key, collected into a `Vec` in no \
                     particular order.",
                    "iter",
                )),
                true,
                quote!((&self) -> #p::Vec<(#k, #out)> #plain),
                if arc_value {
                    quote! {
                        #p::Iterator::collect(#p::Iterator::map(
                            #p::IntoIterator::into_iter(#p::RegistryMap::snapshot(#map)),
                            #p::unwrap_entry,
                        ))
                    }
                } else {
                    quote!(#p::RegistryMap::snapshot(#map))
                },
            ),
            Method::Watch => {
                let through = match item {
                    Some(_) => format!("is changed through the `{item_name}` methods or "),
                    None => String::new(),
                };
                let text = format!(
                    " A [`Watcher`]({link}::Watcher) of the `{field_name}` map: it wakes when \
                     the map {through}when [`Watched::notify`]({link}::Watched::notify) is \
                     called.",
                    link = ctx.link,
                    field_name = self.field.name,
                );
                (
                    doc(&text),
                    true,
                    quote!((&self) -> #p::Watcher),
                    quote!(#p::Watched::watch(&self.#field)),
                )
            }
        };
        let must_use = must_use.then(|| quote!(#[must_use]));
        // The docs take the span of the name, like the rest of the method: Clippy reads the docs
        // of a method whose name comes from the user's tokens only if they do too (otherwise
        // `missing_errors_doc` would not see the `# Errors` section).
        let doc = respan(doc, name.span());
        let vis = &self.vis;
        quote_spanned! {name.span()=>
            #(#cfgs)*
            #doc
            #must_use
            #[inline]
            #vis fn #name #signature {
                #body
            }
        }
    }

    /// `fn handlers(&self) -> &SyncMap<K, V>`: the escape hatch to the whole map API, no more
    /// visible than the field unless `accessor_vis` says otherwise.
    fn accessor(&self) -> TokenStream {
        let field = self.field;
        let (ident, ty, cfgs) = (field.ident, field.ty, &field.cfgs);
        let vis = field.attrs.accessor_vis.as_ref().unwrap_or(field.vis);
        let link = &self.ctx.link;
        let docs = if field.docs.is_empty() {
            let text = if self.watched {
                format!(
                    " The `{}` map, with the whole [`Watched`]({link}::Watched) API.",
                    field.name
                )
            } else {
                format!(
                    " The `{}` map, with the whole [`SyncMap`]({link}::SyncMap) API.",
                    field.name
                )
            };
            respan(doc(&text), ident.span())
        } else {
            let docs = &field.docs;
            quote!(#(#docs)*)
        };
        let note = self.watched.then(|| {
            let note = doc(
                " Changes made through the map itself do not wake watchers: follow \
                            them with `Watched::notify`.",
            );
            respan(note, ident.span())
        });
        quote_spanned! {ident.span()=>
            #(#cfgs)*
            #docs
            #note
            #[must_use]
            #[inline]
            #vis fn #ident(&self) -> &#ty {
                &self.#ident
            }
        }
    }
}

/// `expr`, then `notify` (when it is not empty) with the value of `expr` in hand as `out`.
fn then(expr: TokenStream, notify: TokenStream) -> TokenStream {
    if notify.is_empty() {
        return expr;
    }
    let out = Ident::new("out", Span::mixed_site());
    quote! {
        let #out = #expr;
        #notify
        #out
    }
}

fn doc(text: &str) -> TokenStream {
    quote!(#[doc = #text])
}

fn where_clause(bounds: &[TokenStream]) -> TokenStream {
    if bounds.is_empty() {
        TokenStream::new()
    } else {
        quote!(where #(#bounds,)*)
    }
}

fn ident_name(ident: &Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

/// `tokens` with every span set to `span`, so that an error about them points there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = inner.into();
            }
            tree.set_span(span);
            tree
        })
        .collect()
}

/// `base`, or `base` with a number appended, whichever no generic parameter is called.
fn fresh_ident(base: &str, taken: &[String]) -> Ident {
    let name = std::iter::once(base.to_string())
        .chain((2..).map(|n| format!("{base}{n}")))
        .find(|name| !taken.contains(name))
        .expect("an unused name");
    Ident::new(&name, Span::call_site())
}
