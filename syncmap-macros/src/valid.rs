//! Checks: every mistake the derive can see in a parsed [`Input`], reported once, at the token
//! that causes it. What is left for the compiler (a key type that is not `Hash`, a `SyncMap`
//! with the wrong number of type arguments) is left so that it, too, is reported once.

use crate::ast::{Field, Input, Kind, Method};
use crate::attr::Errors;
use std::collections::BTreeMap;
use syn::ext::IdentExt;
use syn::{Ident, Type};

/// The methods left out because another method of the same name would exist: `(field index,
/// method)` pairs. Leaving both out means the compiler adds no error of its own.
pub(crate) type Omitted = Vec<(usize, Method)>;

/// Reports every mistake in `input` and returns the methods to leave out.
pub(crate) fn validate(input: &Input<'_>, errors: &mut Errors) -> Omitted {
    for field in &input.fields {
        check_field(field, errors);
    }
    clashes(input, errors)
}

fn check_field(field: &Field<'_>, errors: &mut Errors) {
    let attrs = &field.attrs;
    if let Some(skip) = &attrs.skip {
        for (key, set) in [
            ("item", attrs.item.is_some()),
            ("vis", attrs.vis.is_some()),
            ("accessor_vis", attrs.accessor_vis.is_some()),
        ] {
            if set {
                errors.at(
                    skip.span(),
                    format_args!(
                        "`skip` cannot be combined with `{key}`: a skipped field gets no methods"
                    ),
                );
            }
        }
        return;
    }
    if let Kind::Other = field.kind {
        errors.spanned(
            field.ty,
            format_args!(
                "field `{}` has type `{}`, which is not a `SyncMap<K, V>` or \
                 `SyncMap<K, V, S>`; add `#[registry(skip)]` to leave it out \
                 (type aliases are not seen through)",
                field.name,
                type_string(field.ty)
            ),
        );
    }
}

/// Reports every method name generated twice (under the same `#[cfg]`s) at each place that
/// generates it (one error per field and place, listing the names), and returns those methods.
fn clashes(input: &Input<'_>, errors: &mut Errors) -> Omitted {
    struct Planned<'a> {
        field: usize,
        method: Method,
        name: Ident,
        /// The `#[cfg]`s of the field: methods under different `cfg`s may share a name.
        cfg: String,
        field_name: &'a str,
    }
    let planned: Vec<Planned<'_>> = input
        .fields
        .iter()
        .enumerate()
        .flat_map(|(index, field)| {
            let cfg: String = field
                .cfgs
                .iter()
                .map(|a| quote::ToTokens::to_token_stream(a).to_string())
                .collect();
            field
                .methods()
                .into_iter()
                .map(move |(method, name)| Planned {
                    field: index,
                    method,
                    name,
                    cfg: cfg.clone(),
                    field_name: &field.name,
                })
        })
        .collect();
    let key = |p: &Planned<'_>| (p.name.unraw().to_string(), p.cfg.clone());
    let mut count: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for p in &planned {
        count.entry(key(p)).or_default().push(p.field_name);
    }
    let clashes = |p: &Planned<'_>| count[&key(p)].len() > 1;
    // Group the clashing methods by the token that produced them: a field or an `item`.
    let from_item = |p: &Planned<'_>| !matches!(p.method, Method::Accessor | Method::Watch);
    let mut sites: Vec<(&Planned<'_>, Vec<String>, Vec<&str>)> = Vec::new();
    for p in planned.iter().filter(|p| clashes(p)) {
        let others = count[&key(p)].iter().filter(|f| **f != p.field_name);
        let name = format!("`{}`", p.name.unraw());
        let site = sites
            .iter_mut()
            .find(|(q, _, _)| q.field == p.field && from_item(q) == from_item(p));
        match site {
            Some((_, names, fields)) => {
                names.push(name);
                for other in others {
                    if !fields.contains(other) {
                        fields.push(other);
                    }
                }
            }
            None => sites.push((p, vec![name], others.copied().collect())),
        }
    }
    for (p, names, fields) in &sites {
        let (s, names) = match names.len() {
            1 => ("", names[0].clone()),
            _ => ("s", names.join(", ")),
        };
        let message = if fields.is_empty() {
            format!(
                "`#[derive(Registry)]` would give field `{}` two methods named {names}: its \
                 accessor and an `item` method; rename the `item` or the field",
                p.field_name
            )
        } else {
            let fields: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
            format!(
                "`#[derive(Registry)]` would generate the method{s} {names} for field `{}` and \
                 for field {} too; rename an `item` or a field",
                p.field_name,
                fields.join(", ")
            )
        };
        errors.at(p.name.span(), message);
    }
    planned
        .iter()
        .filter(|p| clashes(p))
        .map(|p| (p.field, p.method))
        .collect()
}

/// A type as Rust source, without most of the spaces that `to_string` puts between tokens.
fn type_string(ty: &Type) -> String {
    let mut text = quote::ToTokens::to_token_stream(ty).to_string();
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
