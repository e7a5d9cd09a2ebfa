//! The expansion of `#[derive(Registry)]`.

use crate::attr::{self, Errors};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use std::collections::BTreeMap;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Field, Fields, GenericArgument, GenericParam, Ident,
    PathArguments, Type, Visibility,
};

/// Expands the derive: the generated `impl` followed by every error found, so that one mistake
/// does not hide the methods of the fields that are fine.
pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let struct_attrs = attr::struct_attrs(&input.attrs, &mut errors);
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => Some(&fields.named),
            Fields::Unnamed(fields) => {
                errors.spanned(
                    fields,
                    format_args!(
                        "`#[derive(Registry)]` needs named fields, and `{}` is a tuple struct; \
                         write `struct {} {{ name: SyncMap<K, V> }}`",
                        input.ident, input.ident
                    ),
                );
                None
            }
            Fields::Unit => {
                let struct_token = data.struct_token;
                let ident = &input.ident;
                errors.spanned(
                    quote!(#struct_token #ident),
                    format_args!(
                        "`#[derive(Registry)]` needs named fields, and `{}` is a unit struct; \
                         write `struct {} {{ name: SyncMap<K, V> }}`",
                        input.ident, input.ident
                    ),
                );
                None
            }
        },
        Data::Enum(data) => {
            let enum_token = data.enum_token;
            let ident = &input.ident;
            errors.spanned(
                quote!(#enum_token #ident),
                format_args!(
                    "`#[derive(Registry)]` works on structs with named fields, and `{ident}` is \
                     an enum"
                ),
            );
            None
        }
        Data::Union(data) => {
            let union_token = data.union_token;
            let ident = &input.ident;
            errors.spanned(
                quote!(#union_token #ident),
                format_args!(
                    "`#[derive(Registry)]` works on structs with named fields, and `{ident}` is \
                     a union"
                ),
            );
            None
        }
    };
    let Some(fields) = fields else {
        return errors.into_compile_errors();
    };

    let krate = struct_attrs
        .krate
        .unwrap_or_else(|| syn::parse_quote!(::syncmap_typed));
    let ctx = Context {
        private: quote!(#krate::__private),
        link: format!("{}::__private::SyncMap", attr::path_string(&krate)),
        fresh_q: fresh_ident("Q", input),
        fresh_b: fresh_ident("B", input),
    };
    let default_vis = struct_attrs.vis.unwrap_or_else(|| input.vis.clone());

    let mut methods = Vec::new();
    for field in fields {
        let field_attrs = attr::field_attrs(&field.attrs, &mut errors);
        if field_attrs.skip {
            continue;
        }
        let ident = field.ident.as_ref().expect("named field");
        let Some((key, value, hasher)) = sync_map_args(&field.ty) else {
            errors.spanned(
                &field.ty,
                format_args!(
                    "field `{}` has type `{}`, which is not a `SyncMap<K, V>` or \
                     `SyncMap<K, V, S>`; add `#[registry(skip)]` to leave it out \
                     (type aliases are not seen through)",
                    ident.unraw(),
                    type_string(&field.ty)
                ),
            );
            continue;
        };
        let map = MapField {
            field,
            ident,
            key,
            value,
            hasher,
            vis: field_attrs.vis.unwrap_or_else(|| default_vis.clone()),
            cfgs: field
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("cfg"))
                .collect(),
        };
        methods.push(map.accessor(&ctx));
        if let Some(item) = &field_attrs.item {
            methods.extend(map.item_methods(&ctx, item));
        }
    }

    let methods = reject_duplicates(methods, &mut errors);
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let methods = methods.iter().map(|m| &m.tokens);
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
    /// The same path to `SyncMap` as text, for intra-doc links.
    link: String,
    /// A name for the borrowed-key type parameter that no parameter of the struct uses.
    fresh_q: Ident,
    /// A name for the `ControlFlow` break type parameter, chosen likewise.
    fresh_b: Ident,
}

/// A field whose type is a `SyncMap`.
struct MapField<'a> {
    field: &'a Field,
    ident: &'a Ident,
    key: &'a Type,
    value: &'a Type,
    hasher: Option<&'a Type>,
    vis: Visibility,
    cfgs: Vec<&'a Attribute>,
}

/// One generated method, with what is needed to detect two methods of the same name.
struct Method {
    name: Ident,
    /// The `#[cfg]`s of the field it comes from: methods under different `cfg`s may share a name.
    cfg: String,
    /// The field it comes from, for error messages.
    field: String,
    /// Whether `item = ..` named it (rather than the field).
    from_item: bool,
    tokens: TokenStream,
}

impl MapField<'_> {
    fn method(&self, name: Ident, from_item: bool, tokens: TokenStream) -> Method {
        Method {
            from_item,
            name,
            cfg: self
                .cfgs
                .iter()
                .map(|a| a.to_token_stream().to_string())
                .collect(),
            field: self.ident.unraw().to_string(),
            tokens,
        }
    }

    /// `fn handlers(&self) -> &SyncMap<K, V>`: the escape hatch to the whole map API.
    fn accessor(&self, ctx: &Context) -> Method {
        let Self {
            field, ident, vis, ..
        } = self;
        let cfgs = &self.cfgs;
        let ty = &field.ty;
        let docs: Vec<&Attribute> = field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect();
        let docs = if docs.is_empty() {
            let doc = format!(
                " The `{}` map, with the whole [`SyncMap`]({}) API.",
                ident.unraw(),
                ctx.link
            );
            quote!(#[doc = #doc])
        } else {
            quote!(#(#docs)*)
        };
        let tokens = quote_spanned! {ident.span()=>
            #(#cfgs)*
            #docs
            #[inline]
            #vis fn #ident(&self) -> &#ty {
                &self.#ident
            }
        };
        self.method((*ident).clone(), false, tokens)
    }

    /// The methods named after `item = name`.
    fn item_methods(&self, ctx: &Context, item: &Ident) -> Vec<Method> {
        let Self {
            ident: field,
            key: k,
            value: v,
            vis,
            ..
        } = self;
        let cfgs = &self.cfgs;
        let p = &ctx.private;
        let q = &ctx.fresh_q;
        let b = &ctx.fresh_b;
        let item_name = item.unraw().to_string();
        let span = item.span();
        let name = |pattern: &str| Ident::new(&pattern.replace("{}", &item_name), span);
        let doc = |text: &str, wraps: &str| {
            format!(
                " {} Wraps [`SyncMap::{wraps}`]({}::{wraps}).",
                text.replace("{}", &item_name),
                ctx.link
            )
        };
        // Locals get mixed-site hygiene, so they cannot clash with names in the user's tokens.
        // (A lower-case `const key` in the deriving module would still be read as a pattern.)
        let key = Ident::new("key", Span::mixed_site());
        let value = Ident::new("value", Span::mixed_site());
        let f = Ident::new("f", Span::mixed_site());
        // Bounds carry the span of the type they constrain: an unsuitable key or hasher type is
        // reported at the field's type rather than at the derive.
        let hasher_bound = self
            .hasher
            .map(|s| respan(quote!(#s: #p::BuildHasher,), s.span()));
        let key_bound = |traits: TokenStream| respan(quote!(#k: #traits,), k.span());
        let lookup_bounds = {
            let key = key_bound(quote!(#p::Eq + #p::Hash + #p::Borrow<#q>));
            quote!(#key #q: #p::Eq + #p::Hash + ?#p::Sized, #hasher_bound)
        };
        let walk_bounds = {
            let key = key_bound(quote!(#p::Eq + #p::Hash));
            quote!(#key #hasher_bound)
        };
        let insert_bounds = {
            let key = key_bound(quote!(#p::Eq + #p::Hash + #p::Clone));
            quote!(#key #hasher_bound)
        };
        // A value written `Arc<T>` is handed out as that `Arc` (a reference-count increment)
        // rather than as `Arc<Arc<T>>`; any other value as the map's own `Arc<V>`.
        let arc_value = is_arc(v);
        let value_bound = arc_value.then(|| respan(quote!(#v: #p::Clone,), v.span()));
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

        let mut methods = Vec::new();
        let mut add = |name: Ident, doc: String, signature: TokenStream, body: TokenStream| {
            let tokens = quote_spanned! {span=>
                #(#cfgs)*
                #[doc = #doc]
                #[inline]
                #vis fn #name #signature {
                    #body
                }
            };
            methods.push(self.method(name, true, tokens));
        };

        let item_str = item_name.as_str();
        add(
            name("register_{}"),
            doc(
                "Registers `value` as the `{}` of `key` unless the key already has one, in which \
                 case the error hands `value` back.",
                "try_insert",
            ),
            quote! {
                (&self, #key: #k, #value: #v) -> #p::Result<(), #p::RegisterError<#k, #v>>
                where #insert_bounds
            },
            quote!(#p::register(&self.#field, #item_str, #key, #value)),
        );
        add(
            name("replace_{}"),
            doc(
                "Sets the `{}` of `key`, registered or not, and returns the one it replaces \
                 (a hot swap).",
                "insert",
            ),
            quote! {
                (&self, #key: #k, #value: #v) -> #p::Option<#out>
                where #insert_bounds #value_bound
            },
            unwrap(quote!(#p::SyncMap::insert(&self.#field, #key, #value))),
        );
        let (lookup_doc, lookup) = if arc_value {
            (
                doc(
                    "The `{}` registered under `key`: a clone of its `Arc` (never a lock guard).",
                    "get_cloned",
                ),
                quote!(get_cloned),
            )
        } else {
            (
                doc(
                    "The `{}` registered under `key`, as an owned `Arc` (never a lock guard).",
                    "get_arc",
                ),
                quote!(get_arc),
            )
        };
        add(
            item.clone(),
            lookup_doc,
            quote! {
                <#q>(&self, #key: &#q) -> #p::Option<#out>
                where #lookup_bounds #value_bound
            },
            quote!(#p::SyncMap::#lookup(&self.#field, #key)),
        );
        add(
            name("remove_{}"),
            doc("Unregisters the `{}` of `key` and returns it.", "remove"),
            quote! {
                <#q>(&self, #key: &#q) -> #p::Option<#out>
                where #lookup_bounds #value_bound
            },
            unwrap(quote!(#p::SyncMap::remove(&self.#field, #key))),
        );
        add(
            name("contains_{}"),
            doc("Whether a `{}` is registered under `key`.", "contains_key"),
            quote! {
                <#q>(&self, #key: &#q) -> bool
                where #lookup_bounds
            },
            quote!(#p::SyncMap::contains_key(&self.#field, #key)),
        );
        add(
            name("for_each_{}"),
            doc(
                "Calls `f` on each registered `{}` until it returns `ControlFlow::Break`.",
                "for_each",
            ),
            quote! {
                <#b>(&self, #f: impl #p::FnMut(&#k, &#v) -> #p::ControlFlow<#b>) -> #p::ControlFlow<#b>
                where #walk_bounds
            },
            quote!(#p::SyncMap::for_each(&self.#field, #f)),
        );
        add(
            name("{}_snapshot"),
            doc(
                "Every registered `{}` with its key, collected into a `Vec` in no particular \
                 order.",
                "iter",
            ),
            quote! {
                (&self) -> #p::Vec<(#k, #out)>
                where #insert_bounds #value_bound
            },
            if arc_value {
                quote! {
                    #p::Iterator::collect(
                        #p::Iterator::map(#p::SyncMap::iter(&self.#field), #p::unwrap_entry),
                    )
                }
            } else {
                quote!(#p::Iterator::collect(#p::SyncMap::iter(&self.#field)))
            },
        );
        methods
    }
}

/// Reports every method name generated twice (under the same `#[cfg]`s) at each place that
/// generates it (one error per field and place, listing the names), and leaves those methods out
/// so the compiler adds no error of its own.
fn reject_duplicates(methods: Vec<Method>, errors: &mut Errors) -> Vec<Method> {
    let key = |m: &Method| (m.name.unraw().to_string(), m.cfg.clone());
    let mut count: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for method in &methods {
        count
            .entry(key(method))
            .or_default()
            .push(method.field.clone());
    }
    let clashes = |m: &Method| count[&key(m)].len() > 1;
    // Group the clashing methods by the token that produced them: a field or an `item`.
    let mut sites: Vec<(&Method, Vec<String>, Vec<String>)> = Vec::new();
    for method in methods.iter().filter(|m| clashes(m)) {
        let others: Vec<String> = count[&key(method)]
            .iter()
            .filter(|f| **f != method.field)
            .cloned()
            .collect();
        let site = sites
            .iter_mut()
            .find(|(m, _, _)| m.field == method.field && m.from_item == method.from_item);
        let name = format!("`{}`", method.name.unraw());
        match site {
            Some((_, names, fields)) => {
                names.push(name);
                for other in others {
                    if !fields.contains(&other) {
                        fields.push(other);
                    }
                }
            }
            None => sites.push((method, vec![name], others)),
        }
    }
    for (method, names, fields) in &sites {
        let (s, names) = match names.len() {
            1 => ("", names[0].clone()),
            _ => ("s", names.join(", ")),
        };
        let message = if fields.is_empty() {
            format!(
                "`#[derive(Registry)]` would give field `{}` two methods named {names}: its \
                 accessor and an `item` method; rename the `item` or the field",
                method.field
            )
        } else {
            let fields: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
            format!(
                "`#[derive(Registry)]` would generate the method{s} {names} for field `{}` and \
                 for field {} too; rename an `item` or a field",
                method.field,
                fields.join(", ")
            )
        };
        errors.at(method.name.span(), message);
    }
    let keep: Vec<bool> = methods.iter().map(|m| !clashes(m)).collect();
    methods
        .into_iter()
        .zip(keep)
        .filter_map(|(m, keep)| keep.then_some(m))
        .collect()
}

/// `(K, V, Some(S))` for `SyncMap<K, V, S>`, `(K, V, None)` for `SyncMap<K, V>`: any type path
/// whose last segment is `SyncMap` with two or three type arguments. Aliases are not resolved.
fn sync_map_args(ty: &Type) -> Option<(&Type, &Type, Option<&Type>)> {
    match ty {
        Type::Group(group) => sync_map_args(&group.elem),
        Type::Paren(paren) => sync_map_args(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let segment = path.path.segments.last()?;
            if segment.ident != "SyncMap" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &segment.arguments else {
                return None;
            };
            let types = args
                .args
                .iter()
                .map(|arg| match arg {
                    GenericArgument::Type(ty) => Some(ty),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            match types[..] {
                [k, v] => Some((k, v, None)),
                [k, v, s] => Some((k, v, Some(s))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether `ty` is written `Arc<T>` (any path ending in `Arc` with one type argument).
fn is_arc(ty: &Type) -> bool {
    match ty {
        Type::Group(group) => is_arc(&group.elem),
        Type::Paren(paren) => is_arc(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let Some(segment) = path.path.segments.last() else {
                return false;
            };
            let PathArguments::AngleBracketed(args) = &segment.arguments else {
                return false;
            };
            segment.ident == "Arc"
                && args.args.len() == 1
                && matches!(args.args[0], GenericArgument::Type(_))
        }
        _ => false,
    }
}

/// `tokens` with every span set to `span`, so that an error about them points there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
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

/// `base`, or `base` with a number appended, whichever no generic parameter of `input` is called.
fn fresh_ident(base: &str, input: &DeriveInput) -> Ident {
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
    let name = std::iter::once(base.to_string())
        .chain((2..).map(|n| format!("{base}{n}")))
        .find(|name| !taken.contains(name))
        .expect("an unused name");
    Ident::new(&name, Span::call_site())
}

/// A type as Rust source, without most of the spaces that `to_string` puts between tokens.
fn type_string(ty: &Type) -> String {
    let mut text = ty.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
    ] {
        text = text.replace(from, to);
    }
    text
}
