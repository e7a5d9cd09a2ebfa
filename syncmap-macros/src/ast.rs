//! Parsing: the derive input as the rest of the macro sees it.
//!
//! Only the shape of the input is an error here (the derive needs a struct with named fields);
//! everything else a user can get wrong is recorded as parsed and judged in `valid.rs`.

use crate::attr::{self, Errors, FieldAttrs, StructAttrs};
use quote::quote;
use syn::ext::IdentExt;
use syn::{
    Attribute, Data, DeriveInput, Fields, GenericArgument, Generics, Ident, PathArguments, Type,
    Visibility,
};

/// A struct with named fields that derives `Registry`.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) generics: &'a Generics,
    pub(crate) attrs: StructAttrs,
    pub(crate) fields: Vec<Field<'a>>,
}

/// One named field.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    /// The field's name without `r#`, for messages and for method names.
    pub(crate) name: String,
    pub(crate) vis: &'a Visibility,
    pub(crate) ty: &'a Type,
    pub(crate) kind: Kind<'a>,
    pub(crate) attrs: FieldAttrs,
    /// The field's `#[cfg(..)]`s, repeated on each of its methods.
    pub(crate) cfgs: Vec<&'a Attribute>,
    /// The field's `///` docs, which become its accessor's.
    pub(crate) docs: Vec<&'a Attribute>,
}

/// What the type of a field is, judged by its syntax (aliases are not seen through).
pub(crate) enum Kind<'a> {
    /// `SyncMap<K, V>` or `SyncMap<K, V, S>`.
    Map(MapType<'a>),
    /// `Watched<K, V>` or `Watched<K, V, S>`: a map whose changes can be waited for.
    Watched(MapType<'a>),
    /// A path ending in `SyncMap` or `Watched` with the wrong generic arguments. The compiler
    /// reports that at the field's type (both types take two or three), so the derive adds no
    /// error of its own and generates nothing for the field.
    Misshapen,
    /// Any other type.
    Other,
}

/// The type arguments of a map field.
pub(crate) struct MapType<'a> {
    pub(crate) key: &'a Type,
    pub(crate) value: &'a Type,
    pub(crate) hasher: Option<&'a Type>,
}

impl<'a> Input<'a> {
    /// Parses `input`; `None` (with the error recorded) when it is not a struct with named
    /// fields.
    pub(crate) fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Option<Self> {
        let attrs = attr::struct_attrs(&input.attrs, errors);
        let ident = &input.ident;
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(fields) => &fields.named,
                Fields::Unnamed(fields) => {
                    errors.spanned(
                        fields,
                        format_args!(
                            "`#[derive(Registry)]` needs named fields, and `{ident}` is a tuple \
                             struct; write `struct {ident} {{ name: SyncMap<K, V> }}`"
                        ),
                    );
                    return None;
                }
                Fields::Unit => {
                    let struct_token = data.struct_token;
                    errors.spanned(
                        quote!(#struct_token #ident),
                        format_args!(
                            "`#[derive(Registry)]` needs named fields, and `{ident}` is a unit \
                             struct; write `struct {ident} {{ name: SyncMap<K, V> }}`"
                        ),
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                let enum_token = data.enum_token;
                errors.spanned(
                    quote!(#enum_token #ident),
                    format_args!(
                        "`#[derive(Registry)]` works on structs with named fields, and `{ident}` \
                         is an enum"
                    ),
                );
                return None;
            }
            Data::Union(data) => {
                let union_token = data.union_token;
                errors.spanned(
                    quote!(#union_token #ident),
                    format_args!(
                        "`#[derive(Registry)]` works on structs with named fields, and `{ident}` \
                         is a union"
                    ),
                );
                return None;
            }
        };
        let fields = fields
            .iter()
            .map(|field| {
                let ident = field.ident.as_ref().expect("named field");
                let only = |name: &str| -> Vec<&Attribute> {
                    field
                        .attrs
                        .iter()
                        .filter(|a| a.path().is_ident(name))
                        .collect()
                };
                Field {
                    ident,
                    name: ident.unraw().to_string(),
                    vis: &field.vis,
                    ty: &field.ty,
                    kind: kind(&field.ty),
                    attrs: attr::field_attrs(&field.attrs, errors),
                    cfgs: only("cfg"),
                    docs: only("doc"),
                }
            })
            .collect();
        Some(Input {
            ident,
            vis: &input.vis,
            generics: &input.generics,
            attrs,
            fields,
        })
    }
}

/// Classifies a field's type: any type path whose last segment is `SyncMap` (or `Watched`)
/// with two or three type arguments is taken for the facade's.
fn kind(ty: &Type) -> Kind<'_> {
    match ty {
        Type::Group(group) => kind(&group.elem),
        Type::Paren(paren) => kind(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let Some(segment) = path.path.segments.last() else {
                return Kind::Other;
            };
            let watched = segment.ident == "Watched";
            if !watched && segment.ident != "SyncMap" {
                return Kind::Other;
            }
            let PathArguments::AngleBracketed(args) = &segment.arguments else {
                return Kind::Misshapen;
            };
            let types: Option<Vec<&Type>> = args
                .args
                .iter()
                .map(|arg| match arg {
                    GenericArgument::Type(ty) => Some(ty),
                    _ => None,
                })
                .collect();
            let map = match types.as_deref() {
                Some(&[key, value]) => MapType {
                    key,
                    value,
                    hasher: None,
                },
                Some(&[key, value, hasher]) => MapType {
                    key,
                    value,
                    hasher: Some(hasher),
                },
                _ => return Kind::Misshapen,
            };
            if watched {
                Kind::Watched(map)
            } else {
                Kind::Map(map)
            }
        }
        _ => Kind::Other,
    }
}

/// Whether `ty` is written `Arc<T>` (any path ending in `Arc` with one type argument).
pub(crate) fn is_arc(ty: &Type) -> bool {
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

/// The methods generated for a field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// `fn plugins(&self) -> &SyncMap<K, V>`.
    Accessor,
    Register,
    Replace,
    Lookup,
    Remove,
    Contains,
    ForEach,
    Snapshot,
    /// `fn watch_plugins(&self) -> Watcher`, for a `Watched` field.
    Watch,
}

impl Field<'_> {
    /// The map type, for a field that gets methods.
    pub(crate) fn map(&self) -> Option<&MapType<'_>> {
        match &self.kind {
            Kind::Map(map) | Kind::Watched(map) if self.attrs.skip.is_none() => Some(map),
            _ => None,
        }
    }

    /// The methods this field gets, with their names, before name clashes are removed.
    pub(crate) fn methods(&self) -> Vec<(Method, Ident)> {
        if self.map().is_none() {
            return Vec::new();
        }
        let mut methods = vec![(Method::Accessor, self.ident.clone())];
        if let Some(item) = &self.attrs.item {
            let item_name = item.unraw().to_string();
            let name = |pattern: &str| Ident::new(&pattern.replace("{}", &item_name), item.span());
            methods.extend([
                (Method::Register, name("register_{}")),
                (Method::Replace, name("replace_{}")),
                (Method::Lookup, item.clone()),
                (Method::Remove, name("remove_{}")),
                (Method::Contains, name("contains_{}")),
                (Method::ForEach, name("for_each_{}")),
                (Method::Snapshot, name("{}_snapshot")),
            ]);
        }
        if matches!(self.kind, Kind::Watched(_)) {
            let name = format!("watch_{}", self.name);
            methods.push((Method::Watch, Ident::new(&name, self.ident.span())));
        }
        methods
    }
}
