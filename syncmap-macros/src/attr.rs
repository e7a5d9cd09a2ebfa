//! Parsing of `#[registry(...)]` attributes (the first half of parsing; `ast.rs` is the other).
//!
//! Every key is parsed on its own, so one bad key is reported without hiding the others, and the
//! keys that did parse are still used: all errors of a derive come out in one compile.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use std::fmt::Display;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Ident, LitStr, Meta, Path, Visibility};

/// Errors collected over the whole derive and reported together.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.0.map(|e| e.to_compile_error()).unwrap_or_default()
    }
}

/// Where an attribute is written, which decides the keys it accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Struct,
    Field,
}

impl Place {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Place::Struct => &["crate", "vis"],
            Place::Field => &["item", "vis", "accessor_vis", "skip"],
        }
    }
}

/// One `key` or `key = value` inside `#[registry(...)]`.
struct Entry {
    key: Ident,
    value: Option<TokenStream>,
}

/// The keys of the `#[registry(...)]` attributes on the struct.
#[derive(Default)]
pub(crate) struct StructAttrs {
    pub(crate) krate: Option<Path>,
    pub(crate) vis: Option<Visibility>,
}

/// The keys of the `#[registry(...)]` attributes on one field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) item: Option<Ident>,
    /// The visibility of the `item` methods.
    pub(crate) vis: Option<Visibility>,
    /// The visibility of the accessor (default: the field's own).
    pub(crate) accessor_vis: Option<Visibility>,
    /// The `skip` key itself, for errors about what it is combined with.
    pub(crate) skip: Option<Ident>,
}

pub(crate) fn struct_attrs(attrs: &[Attribute], errors: &mut Errors) -> StructAttrs {
    let mut out = StructAttrs::default();
    let mut seen = Seen::default();
    for entry in registry_entries(attrs, errors) {
        let key = entry.key.unraw().to_string();
        if !known_key(Place::Struct, &entry.key, errors)
            || !seen.first(Place::Struct, &entry.key, errors)
        {
            continue;
        }
        let Some(value) = value_of(&entry, errors) else {
            continue;
        };
        match key.as_str() {
            "crate" => out.krate = crate_path(value, errors),
            "vis" => out.vis = visibility(value, errors),
            _ => unreachable!("known_key checked it"),
        }
    }
    out
}

pub(crate) fn field_attrs(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    let mut seen = Seen::default();
    for entry in registry_entries(attrs, errors) {
        let key = entry.key.unraw().to_string();
        if !known_key(Place::Field, &entry.key, errors)
            || !seen.first(Place::Field, &entry.key, errors)
        {
            continue;
        }
        if key == "skip" {
            if let Some(value) = &entry.value {
                errors.spanned(value, "`skip` takes no value: write `#[registry(skip)]`");
            }
            out.skip = Some(entry.key.clone());
            continue;
        }
        let Some(value) = value_of(&entry, errors) else {
            continue;
        };
        match key.as_str() {
            "item" => out.item = item_name(value, errors),
            "vis" => out.vis = visibility(value, errors),
            "accessor_vis" => out.accessor_vis = visibility(value, errors),
            _ => unreachable!("known_key checked it"),
        }
    }
    out
}

/// The keys already seen on one struct or field, to reject duplicates.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn first(&mut self, place: Place, key: &Ident, errors: &mut Errors) -> bool {
        let name = key.unraw().to_string();
        if self.0.contains(&name) {
            let place = match place {
                Place::Struct => "struct",
                Place::Field => "field",
            };
            errors.at(
                key.span(),
                format_args!("duplicate `{name}` key: it is already set for this {place}"),
            );
            return false;
        }
        self.0.push(name);
        true
    }
}

/// Splits every `#[registry(...)]` among `attrs` into its comma-separated entries.
fn registry_entries(attrs: &[Attribute], errors: &mut Errors) -> Vec<Entry> {
    let mut entries = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("registry")) {
        let list = match &attr.meta {
            Meta::List(list) => list,
            other => {
                errors.spanned(
                    other,
                    "expected a list of keys, as in `#[registry(item = handler)]`",
                );
                continue;
            }
        };
        let mut chunk = Vec::new();
        for tree in list.tokens.clone() {
            match &tree {
                TokenTree::Punct(p) if p.as_char() == ',' => {
                    entries.extend(entry(std::mem::take(&mut chunk), errors));
                }
                _ => chunk.push(tree),
            }
        }
        entries.extend(entry(chunk, errors));
    }
    entries
}

fn entry(chunk: Vec<TokenTree>, errors: &mut Errors) -> Option<Entry> {
    let mut trees = chunk.into_iter();
    let key = match trees.next()? {
        TokenTree::Ident(key) => key,
        other => {
            errors.spanned(other, "expected a key such as `item`, `vis` or `skip`");
            return None;
        }
    };
    match trees.next() {
        None => Some(Entry { key, value: None }),
        Some(TokenTree::Punct(eq)) if eq.as_char() == '=' => {
            let value: TokenStream = trees.collect();
            if value.is_empty() {
                errors.at(eq.span(), format_args!("expected a value after `{key} =`"));
                return None;
            }
            Some(Entry {
                key,
                value: Some(value),
            })
        }
        Some(other) => {
            errors.spanned(other, format_args!("expected `=` or `,` after `{key}`"));
            None
        }
    }
}

fn known_key(place: Place, key: &Ident, errors: &mut Errors) -> bool {
    let name = key.unraw().to_string();
    let keys = place.keys();
    if keys.contains(&name.as_str()) {
        return true;
    }
    let other = match place {
        Place::Struct => Place::Field,
        Place::Field => Place::Struct,
    };
    let message = if other.keys().contains(&name.as_str()) {
        match place {
            Place::Struct => format!("`{name}` belongs on a field, not on the struct"),
            Place::Field => format!("`{name}` belongs on the struct, not on a field"),
        }
    } else {
        let expected = keys
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        match closest(&name, keys) {
            Some(best) => {
                format!("unknown `registry` key `{name}`; did you mean `{best}`? (expected one of {expected})")
            }
            None => format!("unknown `registry` key `{name}`; expected one of {expected}"),
        }
    };
    errors.at(key.span(), message);
    false
}

fn value_of<'a>(entry: &'a Entry, errors: &mut Errors) -> Option<&'a TokenStream> {
    let value = entry.value.as_ref();
    if value.is_none() {
        let key = entry.key.unraw().to_string();
        let example = match key.as_str() {
            "item" => "item = handler",
            "vis" => "vis = \"pub(crate)\"",
            "accessor_vis" => "accessor_vis = \"pub(crate)\"",
            _ => "crate = ::syncmap_typed",
        };
        errors.at(
            entry.key.span(),
            format_args!("`{key}` needs a value, as in `{example}`"),
        );
    }
    value
}

fn item_name(value: &TokenStream, errors: &mut Errors) -> Option<Ident> {
    if let Ok(ident) = syn::parse2::<Ident>(value.clone()) {
        return Some(ident);
    }
    match syn::parse2::<LitStr>(value.clone()) {
        Ok(lit) => errors.at(
            lit.span(),
            format_args!(
                "write the item name without quotes: `item = {}`",
                lit.value()
            ),
        ),
        Err(_) => errors.spanned(
            value,
            "expected an identifier for `item`, as in `item = handler` (methods are named after it)",
        ),
    }
    None
}

fn visibility(value: &TokenStream, errors: &mut Errors) -> Option<Visibility> {
    let Ok(lit) = syn::parse2::<LitStr>(value.clone()) else {
        errors.spanned(
            value,
            "expected a string for `vis`, as in `vis = \"pub(crate)\"`",
        );
        return None;
    };
    let parsed = (|input: ParseStream| {
        let vis: Visibility = input.parse()?;
        if input.is_empty() {
            Ok(vis)
        } else {
            Err(input.error("unexpected tokens"))
        }
    })
    .parse_str(&lit.value());
    match parsed {
        Ok(vis) => Some(respan_visibility(vis, lit.span())),
        Err(_) => {
            errors.at(
                lit.span(),
                format_args!(
                    "invalid visibility `{}`: expected `pub`, `pub(crate)`, `pub(super)`, \
                     `pub(in path)`, or `\"\"` for private",
                    lit.value()
                ),
            );
            None
        }
    }
}

/// Gives the tokens of a parsed visibility the span of the string they came from.
fn respan_visibility(vis: Visibility, span: Span) -> Visibility {
    let tokens: TokenStream = vis
        .into_token_stream()
        .into_iter()
        .map(|mut tree| {
            tree.set_span(span);
            tree
        })
        .collect();
    syn::parse2(tokens).expect("re-parsing a visibility")
}

fn crate_path(value: &TokenStream, errors: &mut Errors) -> Option<Path> {
    let path = match Path::parse_mod_style.parse2(value.clone()) {
        Ok(path) => path,
        Err(_) => {
            errors.spanned(
                value,
                "expected a path for `crate`, as in `crate = ::syncmap_typed`",
            );
            return None;
        }
    };
    let first = path.segments.first().map(|s| s.ident.to_string());
    let absolute =
        path.leading_colon.is_some() || matches!(first.as_deref(), Some("crate") | Some("$crate"));
    if !absolute {
        errors.spanned(
            &path,
            format_args!(
                "the `crate` path must be absolute so it resolves from any module: \
                 write `::{}`",
                path_string(&path)
            ),
        );
        return None;
    }
    Some(path)
}

/// A path as Rust source, without the spaces `to_string` puts between tokens.
pub(crate) fn path_string(path: &Path) -> String {
    let mut out = String::new();
    if path.leading_colon.is_some() {
        out.push_str("::");
    }
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    out.push_str(&segments.join("::"));
    out
}

/// The key among `keys` closest to `name`, if it is close enough to be a typo.
fn closest<'a>(name: &str, keys: &[&'a str]) -> Option<&'a str> {
    keys.iter()
        .map(|k| (distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.min(k.len() - 1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance (edits, counting a swap of neighbours as one).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = Place::Field.keys();
        assert_eq!(closest("itme", keys), Some("item"));
        assert_eq!(closest("items", keys), Some("item"));
        assert_eq!(closest("skp", keys), Some("skip"));
        assert_eq!(closest("visibility", keys), None);
        assert_eq!(closest("xyz", keys), None);
        assert_eq!(closest("crat", Place::Struct.keys()), Some("crate"));
    }
}
