//! Rust output: parameter structs, async handlers, static metadata, the docs and the registry
//! entry with its dispatcher, built as token streams with `quote` and printed with
//! `prettyplease`, one blank line between items.

use proc_macro2::{Ident, Literal as TokenLiteral, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::GeneratedFile;
use crate::manifest::{BodyFormat, Method, Operation, ParamLocation, ParamType, ScalarType};
use crate::model::{Function, Pagination, Param, PathPart, Provider, RateLimits, Route};

/// Files of the Rust crate for all providers: `Cargo.toml`, `src/lib.rs` and a module per provider.
pub(crate) fn emit_crate(
    providers: &[Provider],
    crate_name: &str,
) -> Result<Vec<GeneratedFile>, syn::Error> {
    let mut files = vec![cargo_toml(providers, crate_name), lib_rs(providers)?];
    for provider in providers {
        let dir = format!("generated/src/{}", provider.name);
        let header = super::header_comment("//", &provider.manifest_path);
        for (name, text) in [
            ("mod.rs", pretty(module_rs(provider))?),
            ("params.rs", params_rs(provider)?),
            ("handlers.rs", handlers_rs(provider)?),
            ("meta.rs", meta_rs(provider)?),
            ("docs.rs", pretty(docs_rs(provider))?),
        ] {
            files.push(GeneratedFile {
                path: format!("{dir}/{name}"),
                contents: format!("{header}\n{text}"),
            });
        }
    }
    Ok(files)
}

fn pretty(tokens: TokenStream) -> Result<String, syn::Error> {
    let file: syn::File = syn::parse2(tokens)?;
    Ok(print_items(file))
}

/// Prints a file the way people lay Rust out: a blank line between items, none inside a run of
/// `use` or `mod` declarations. prettyplease prints items back to back, so each top-level item
/// is printed on its own and the pieces are joined.
fn print_items(file: syn::File) -> String {
    let mut out = String::new();
    if !file.attrs.is_empty() {
        out.push_str(&prettyplease::unparse(&syn::File {
            shebang: None,
            frontmatter: None,
            attrs: file.attrs,
            items: Vec::new(),
        }));
    }
    let mut previous: Option<Declaration> = None;
    for item in file.items {
        let kind = Declaration::of(&item);
        let grouped = matches!(
            (previous, kind),
            (Some(Declaration::Use), Declaration::Use) | (Some(Declaration::Mod), Declaration::Mod)
        );
        if !out.is_empty() && !grouped {
            out.push('\n');
        }
        out.push_str(&prettyplease::unparse(&syn::File {
            shebang: None,
            frontmatter: None,
            attrs: Vec::new(),
            items: vec![item],
        }));
        previous = Some(kind);
    }
    out
}

/// Items that are kept together without blank lines between them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Declaration {
    Use,
    Mod,
    Other,
}

impl Declaration {
    fn of(item: &syn::Item) -> Self {
        match item {
            syn::Item::Use(_) => Declaration::Use,
            syn::Item::Mod(module) if module.content.is_none() => Declaration::Mod,
            _ => Declaration::Other,
        }
    }
}

/// A file made of `head`, one item per function, then `tail`.
///
/// Parsing and printing dominate generation time, and prettyplease prints each top-level item
/// on its own, so the per-function items are built, parsed and printed on all cores in contiguous
/// chunks and joined in manifest order: the output is the same as printing the file whole.
/// Functions parsed and printed together by one worker of [`pretty_per_function`].
const BATCH: usize = 32;

fn pretty_per_function(
    head: TokenStream,
    functions: &[Function],
    item: fn(&Function) -> TokenStream,
    tail: TokenStream,
) -> Result<String, syn::Error> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, functions.len().max(1));
    let chunk = functions.len().div_ceil(threads).max(1);
    let body: Vec<Result<String, syn::Error>> = std::thread::scope(|scope| {
        let workers: Vec<_> = functions
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    // A few functions at a time: the token trees and syntax trees of a whole
                    // chunk at once took hundreds of megabytes at 5,000 functions, and the
                    // page faults cost as much as the printing.
                    let mut printed = Vec::new();
                    for batch in part.chunks(BATCH) {
                        printed.push(pretty(batch.iter().map(item).collect())?);
                    }
                    Ok(printed.join("\n"))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(syn::Error::new(
                        Span::call_site(),
                        "a formatting thread panicked",
                    ))
                })
            })
            .collect()
    });
    let mut parts = vec![pretty(head)?];
    for part in body {
        parts.push(part?);
    }
    parts.push(pretty(tail)?);
    Ok(parts
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n"))
}

fn ident(text: &str) -> Ident {
    match text.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(text, Span::call_site()),
    }
}

fn cargo_toml(providers: &[Provider], crate_name: &str) -> GeneratedFile {
    let sources: Vec<&str> = providers.iter().map(|p| p.manifest_path.as_str()).collect();
    let contents = format!(
        r#"{header}
[package]
name = "{crate_name}"
description = "Generated integration functions for KosmoKrator's Lua runtime."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[dependencies]
kosmo-runtime.workspace = true
serde.workspace = true
serde_json.workspace = true

[lints]
workspace = true
"#,
        header = super::header_comment("#", &sources.join(", "))
    );
    GeneratedFile {
        path: "generated/Cargo.toml".into(),
        contents,
    }
}

fn lib_rs(providers: &[Provider]) -> Result<GeneratedFile, syn::Error> {
    let modules = providers.iter().map(|p| ident(&p.module));
    let entries = providers.iter().map(|p| {
        let m = ident(&p.module);
        quote!(&#m::INTEGRATION)
    });
    let count = TokenLiteral::usize_unsuffixed(providers.len());
    let tokens = quote! {
        //! Integration functions generated from the manifests in `spec/`.
        //!
        //! Each provider module has `params` (argument structs), `handlers` (one async function per
        //! manifest function), `meta` (static descriptions), `docs` (the generated pages) and
        //! `INTEGRATION`, its entry in the registry that hosts read: [`INTEGRATIONS`].
        // prettyplease formats these modules; rustfmt would re-wrap them differently.
        #(#[rustfmt::skip] pub mod #modules;)*

        /// The registry: every integration in this crate, by provider name.
        pub static INTEGRATIONS: [&kosmo_runtime::Integration; #count] = [#(#entries),*];
    };
    let sources: Vec<&str> = providers.iter().map(|p| p.manifest_path.as_str()).collect();
    Ok(GeneratedFile {
        path: "generated/src/lib.rs".into(),
        contents: format!(
            "{}\n{}",
            super::header_comment("//", &sources.join(", ")),
            pretty(tokens)?
        ),
    })
}

/// The generated doc pages embedded with `include_str!`, so a host serves exactly the files in
/// `docs/` and nothing can drift between them.
fn docs_rs(provider: &Provider) -> TokenStream {
    let dir = format!("../../docs/{}", provider.name);
    let readme = format!("{dir}/README.md");
    let namespace = format!("{dir}/namespace.md");
    let catalog = format!("{dir}/catalog.json");
    let pages = provider.functions.iter().map(|f| {
        let name = &f.name;
        let file = format!("{dir}/functions/{}.md", f.name);
        quote!((#name, include_str!(#file)))
    });
    // The families that have functions, as the docs emitter writes their pages.
    let families = provider
        .families
        .iter()
        .filter(|family| provider.functions.iter().any(|f| f.group == family.name))
        .map(|family| {
            let name = &family.name;
            let file = format!("{dir}/families/{name}.md");
            quote!((#name, include_str!(#file)))
        });
    let guides = provider.guides.iter().map(|g| {
        let name = &g.name;
        let file = format!("{dir}/guides/{name}.md");
        quote!((#name, include_str!(#file)))
    });
    quote! {
        //! The generated documentation, embedded: what `docs.read` and `kosmo integrations:docs` show.
        use kosmo_runtime::Docs;

        /// The provider page, the namespace index, the catalog (with every input schema), one
        /// page per function, by Lua name, in manifest order, one per family and one per guide.
        pub const DOCS: Docs = Docs {
            provider_page: include_str!(#readme),
            namespace: include_str!(#namespace),
            catalog_json: include_str!(#catalog),
            function_pages: &[#(#pages),*],
            family_pages: &[#(#families),*],
            guide_pages: &[#(#guides),*],
        };
    }
}

fn module_rs(provider: &Provider) -> TokenStream {
    let doc = format!(" {}: {}", provider.label, provider.description);
    let arms = provider.functions.iter().map(|f| {
        let name = &f.name;
        let handler = ident(&f.rust_name);
        quote! {
            #name => handlers::#handler(transport, parse_args(function, args)?).await
        }
    });
    quote! {
        #![doc = #doc]
        pub mod docs;
        pub mod handlers;
        pub mod meta;
        pub mod params;

        use kosmo_runtime::args::parse_args;
        use kosmo_runtime::{Error, FunctionMeta, Integration, OutputFuture, Transport};
        use serde_json::Value;

        /// This provider's entry in the registry: metadata, docs and dispatcher.
        pub static INTEGRATION: Integration = Integration {
            meta: &meta::PROVIDER,
            docs: docs::DOCS,
            call: dispatch,
        };

        /// Calls the function `name` (Lua name, full slug or alias) with a JSON argument table
        /// and returns its answer as JSON. Arguments are checked against the manifest before
        /// anything is sent.
        pub async fn call(transport: &dyn Transport, name: &str, args: Value) -> Result<Value, Error> {
            match meta::PROVIDER.function(name) {
                Some(function) => dispatch(transport, function, args).await?.into_value(),
                None => Err(meta::PROVIDER.unknown_function(name)),
            }
        }

        /// Runs `function`, one of this provider's: checks `args`, builds the request and sends it.
        pub fn dispatch<'a>(
            transport: &'a dyn Transport,
            function: &'static FunctionMeta,
            args: Value,
        ) -> OutputFuture<'a> {
            Box::pin(async move {
                match function.name {
                    #(#arms,)*
                    other => Err(meta::PROVIDER.unknown_function(other)),
                }
            })
        }
    }
}

fn rust_type(ty: ParamType) -> TokenStream {
    fn scalar(t: ScalarType) -> TokenStream {
        match t {
            ScalarType::String => quote!(String),
            ScalarType::Integer => quote!(i64),
            ScalarType::Number => quote!(f64),
            ScalarType::Boolean => quote!(bool),
            ScalarType::Object => quote!(serde_json::Map<String, serde_json::Value>),
        }
    }
    match ty {
        ParamType::Scalar(t) => scalar(t),
        ParamType::Array(t) => {
            let item = scalar(t);
            quote!(Vec<#item>)
        }
        ParamType::File => quote!(kosmo_runtime::FileArg),
    }
}

fn params_rs(provider: &Provider) -> Result<String, syn::Error> {
    let head = quote! {
        //! Argument structs, one per function. Unknown fields are refused; aliases are accepted.
    };
    pretty_per_function(head, &provider.functions, params_struct, TokenStream::new())
}

fn params_struct(f: &Function) -> TokenStream {
    let name = format_ident!("{}", f.params_type);
    let doc = format!(" Arguments of `{}`: {}", f.name, f.summary);
    let fields = f.params.iter().map(|p| {
        let field = ident(&p.rust_name);
        let ty = rust_type(p.ty);
        let doc = format!(" {}", p.description);
        let rename = (p.rust_name.trim_start_matches("r#") != p.name).then(|| {
            let name = &p.name;
            quote!(#[serde(rename = #name)])
        });
        let aliases = p.aliases.iter().map(|a| quote!(#[serde(alias = #a)]));
        if p.required {
            quote! {
                #[doc = #doc]
                #rename
                #(#aliases)*
                pub #field: #ty
            }
        } else {
            // serde's derive reads a missing `Option` field as `None`.
            quote! {
                #[doc = #doc]
                #rename
                #(#aliases)*
                pub #field: Option<#ty>
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct #name {
            #(#fields,)*
        }
    }
}

fn handlers_rs(provider: &Provider) -> Result<String, syn::Error> {
    // Only a wrapped response builds a JSON value here.
    let value = provider
        .functions
        .iter()
        .any(|f| f.response.is_some())
        .then(|| {
            quote!(
                use serde_json::Value;
            )
        });
    let head = quote! {
        //! One async handler per function: builds the request the manifest describes and sends it.
        use kosmo_runtime::{ApiRequest, Error, Method, Output, Transport};
        #value

        use super::params::*;
    };
    pretty_per_function(head, &provider.functions, handler, TokenStream::new())
}

fn method_tokens(method: Method) -> TokenStream {
    match method {
        Method::Get => quote!(Method::Get),
        Method::Post => quote!(Method::Post),
        Method::Put => quote!(Method::Put),
        Method::Patch => quote!(Method::Patch),
        Method::Delete => quote!(Method::Delete),
    }
}

fn operation_tokens(operation: Operation) -> TokenStream {
    match operation {
        Operation::Read => quote!(Operation::Read),
        Operation::Write => quote!(Operation::Write),
    }
}

fn handler(f: &Function) -> TokenStream {
    let name = ident(&f.rust_name);
    let params_type = format_ident!("{}", f.params_type);
    let fname = &f.name;
    let method = method_tokens(f.method);
    let doc_summary = format!(" {}", f.summary);
    let doc_route = format!(" `{} {}`", f.method, f.path);
    let field = |p: &Param| ident(&p.rust_name);

    let path = f.path_parts.iter().map(|part| match part {
        PathPart::Literal { text } => quote!(request.push_literal(#text);),
        PathPart::Segment { param } | PathPart::Relative { param } => {
            let p = &f.params[*param];
            // Refusals name the parameter as scripts pass it, not its wire name.
            let name = &p.name;
            let value = field(p);
            let text = match p.ty {
                ParamType::Scalar(ScalarType::String) => quote!(&params.#value),
                _ => quote!(&params.#value.to_string()),
            };
            if matches!(part, PathPart::Relative { .. }) {
                quote!(request.push_relative_path(#name, #text, transport.base_url())?;)
            } else {
                quote!(request.push_segment(#name, #text)?;)
            }
        }
    });
    let fixed_query = f.fixed_query.iter().map(|(key, value)| {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        quote!(request.push_query(#key, #text);)
    });
    // One line per parameter: optional ones are `Option`s, which the request skips when `None`.
    let declared = f
        .params
        .iter()
        .filter(|p| p.location != ParamLocation::Path && !p.spread)
        .map(|p| {
            let wire = &p.wire_name;
            let value = field(p);
            match p.location {
                ParamLocation::Query if !p.explode => {
                    quote!(request.push_query_joined(#wire, params.#value);)
                }
                ParamLocation::Query => quote!(request.push_query(#wire, params.#value);),
                ParamLocation::Body if p.ty == ParamType::File => {
                    quote!(request.set_file(#wire, params.#value);)
                }
                // The one parameter of a `json_array` body is the whole body.
                ParamLocation::Body if f.body == BodyFormat::JsonArray => {
                    quote!(request.set_body_items(params.#value);)
                }
                ParamLocation::Body => quote!(request.set_body_field(#wire, params.#value);),
                // Path parameters were placed in the path above.
                ParamLocation::Path => quote!(),
            }
        });
    // Spread tables go last so declared parameters always win.
    let spread = f.params.iter().filter(|p| p.spread).map(|p| {
        let value = field(p);
        match p.location {
            ParamLocation::Query => quote!(request.merge_query_map(params.#value);),
            ParamLocation::Body => quote!(request.merge_body_map(params.#value);),
            // Validation refuses a spread table in the path.
            ParamLocation::Path => quote!(),
        }
    });
    let uses_params = f.params.is_empty().then(|| quote!(let _ = params;));
    let send = match &f.response {
        None => quote!(transport.send(request).await.map(Output::Response)),
        Some(wrap) => {
            let nest = &wrap.nest_under;
            let fields = wrap.with_fields.iter().map(|(k, v)| {
                let v = value_tokens(v);
                quote!(wrapped.insert(#k.to_string(), #v);)
            });
            quote! {
                let response = transport.send(request).await?.json()?;
                let mut wrapped = serde_json::Map::new();
                #(#fields)*
                wrapped.insert(#nest.to_string(), response);
                Ok(Output::Value(Value::Object(wrapped)))
            }
        }
    };
    let multipart = (f.body == BodyFormat::Multipart).then(|| quote!(.multipart()));
    let mutability = if f.path_parts.len() + f.fixed_query.len() + f.params.len() > 0 {
        quote!(mut)
    } else {
        quote!()
    };
    quote! {
        #[doc = #doc_summary]
        #[doc = ""]
        #[doc = #doc_route]
        pub async fn #name(transport: &dyn Transport, params: #params_type) -> Result<Output, Error> {
            #uses_params
            let #mutability request = ApiRequest::new(#fname, #method)#multipart;
            #(#path)*
            #(#fixed_query)*
            #(#declared)*
            #(#spread)*
            #send
        }
    }
}

/// A JSON constant as an expression building the same `serde_json::Value`.
fn value_tokens(value: &Value) -> TokenStream {
    match value {
        Value::Null => quote!(Value::Null),
        Value::Bool(b) => quote!(Value::Bool(#b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => quote!(Value::from(#i)),
            (None, Some(f)) => quote!(Value::from(#f)),
            _ => quote!(Value::Null),
        },
        Value::String(s) => quote!(Value::from(#s)),
        Value::Array(items) => {
            let items = items.iter().map(value_tokens);
            quote!(Value::Array(vec![#(#items),*]))
        }
        Value::Object(map) => {
            let inserts = map.iter().map(|(k, v)| {
                let v = value_tokens(v);
                quote!(map.insert(#k.to_string(), #v);)
            });
            quote!({ let mut map = serde_json::Map::new(); #(#inserts)* Value::Object(map) })
        }
    }
}

fn literal_tokens(value: &Value) -> Option<TokenStream> {
    Some(match value {
        Value::String(s) => quote!(Literal::String(#s)),
        Value::Bool(b) => quote!(Literal::Boolean(#b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => quote!(Literal::Integer(#i)),
            (None, Some(f)) => quote!(Literal::Number(#f)),
            _ => return None,
        },
        _ => return None,
    })
}

fn option<T>(value: Option<T>, f: impl Fn(T) -> TokenStream) -> TokenStream {
    match value {
        Some(v) => {
            let inner = f(v);
            quote!(Some(#inner))
        }
        None => quote!(None),
    }
}

fn param_type_tokens(ty: ParamType) -> TokenStream {
    fn scalar(t: ScalarType) -> TokenStream {
        match t {
            ScalarType::String => quote!(ParamType::String),
            ScalarType::Integer => quote!(ParamType::Integer),
            ScalarType::Number => quote!(ParamType::Number),
            ScalarType::Boolean => quote!(ParamType::Boolean),
            ScalarType::Object => quote!(ParamType::Object),
        }
    }
    match ty {
        ParamType::Scalar(t) => scalar(t),
        ParamType::Array(t) => {
            let item = scalar(t);
            quote!(ParamType::Array(&#item))
        }
        ParamType::File => quote!(ParamType::File),
    }
}

fn meta_rs(provider: &Provider) -> Result<String, syn::Error> {
    // Import only what the statics below name, so the file has no unused imports.
    let functions = &provider.functions;
    let params = || functions.iter().flat_map(|f| &f.params);
    let paged = functions.iter().any(|f| f.pagination.is_some());
    let limits = &provider.rate_limits;
    let limited = !limits.tiers.is_empty() || !limits.endpoints.is_empty();
    let routes = !limits.exempt.is_empty() || !limits.endpoints.is_empty();
    let used = [
        ("CredentialMeta", !provider.credentials.is_empty()),
        ("EndpointLimit", !limits.endpoints.is_empty()),
        ("ErrorFormat", has_error_format(provider)),
        ("FamilyMeta", !provider.families.is_empty()),
        ("FunctionMeta", true),
        (
            "Literal",
            params().any(|p| {
                !p.allowed.is_empty() || p.default.as_ref().and_then(literal_tokens).is_some()
            }),
        ),
        (
            "Method",
            routes || functions.iter().any(|f| f.method != Method::Get),
        ),
        (
            "Operation",
            functions.iter().any(|f| f.operation != Operation::Read),
        ),
        ("Pagination", paged),
        ("ParamMeta", params().next().is_some()),
        ("ParamType", params().next().is_some()),
        ("ProviderMeta", true),
        ("RateLimits", limited),
        ("RateTier", !provider.rate_limits.tiers.is_empty()),
        ("Route", routes),
        ("Total", paged),
    ];
    let names = used
        .iter()
        .filter(|(_, used)| *used)
        .map(|(name, _)| format_ident!("{name}"));
    let head = quote! {
        //! Static descriptions of the provider and each function, for introspection, docs and
        //! argument checks. Only what differs from the defaults is written.
        use kosmo_runtime::{#(#names),*};
    };
    pretty_per_function(head, functions, meta_static, meta_tail(provider))
}

fn has_error_format(provider: &Provider) -> bool {
    let e = &provider.errors;
    [
        &e.message,
        &e.code,
        &e.long_message,
        &e.meta,
        &e.trace_id,
        &e.trace_id_headers,
    ]
    .iter()
    .any(|list| !list.is_empty())
}

/// `ParamMeta::query("limit", ParamType::Integer).minimum(1.0).doc("…")`: the constructor names
/// the location, and each builder call one field that differs from the default.
fn param_tokens(p: &Param) -> TokenStream {
    let name = &p.name;
    let ty = param_type_tokens(p.ty);
    let constructor = match p.location {
        ParamLocation::Path => quote!(ParamMeta::path(#name, #ty)),
        ParamLocation::Query => quote!(ParamMeta::query(#name, #ty)),
        ParamLocation::Body => quote!(ParamMeta::body(#name, #ty)),
    };
    let mut calls = Vec::new();
    if p.wire_name != p.name {
        let wire = &p.wire_name;
        calls.push(quote!(.wire(#wire)));
    }
    if !p.aliases.is_empty() {
        let aliases = &p.aliases;
        calls.push(quote!(.aliases(&[#(#aliases),*])));
    }
    // Path parameters are always required; `path()` says so.
    if p.required && p.location != ParamLocation::Path {
        calls.push(quote!(.required()));
    }
    if let Some(default) = p.default.as_ref().and_then(literal_tokens) {
        calls.push(quote!(.default_value(#default)));
    }
    if let Some(minimum) = p.minimum {
        let lit = TokenLiteral::f64_suffixed(minimum);
        calls.push(quote!(.minimum(#lit)));
    }
    if let Some(maximum) = p.maximum {
        let lit = TokenLiteral::f64_suffixed(maximum);
        calls.push(quote!(.maximum(#lit)));
    }
    if let Some(max_items) = p.max_items {
        calls.push(quote!(.max_items(#max_items)));
    }
    if !p.allowed.is_empty() {
        let allowed = p.allowed.iter().filter_map(literal_tokens);
        calls.push(quote!(.allowed(&[#(#allowed),*])));
    }
    if p.spread {
        calls.push(quote!(.spread()));
    }
    if !p.content_types.is_empty() {
        let types = &p.content_types;
        calls.push(quote!(.content_types(&[#(#types),*])));
    }
    if let Some(max_bytes) = p.max_bytes {
        calls.push(quote!(.max_bytes(#max_bytes)));
    }
    if !p.description.is_empty() {
        let description = &p.description;
        calls.push(quote!(.doc(#description)));
    }
    quote!(#constructor #(#calls)*)
}

fn meta_static(f: &Function) -> TokenStream {
    let name_static = format_ident!("{}", f.meta_static);
    let (name, slug, title, group, summary, description, path) = (
        &f.name,
        &f.slug,
        &f.title,
        &f.group,
        &f.summary,
        &f.description,
        &f.path,
    );
    let mut fields = vec![quote!(name: #name), quote!(slug: #slug)];
    if !f.aliases.is_empty() {
        let aliases = &f.aliases;
        fields.push(quote!(aliases: &[#(#aliases),*]));
    }
    fields.extend([
        quote!(title: #title),
        quote!(group: #group),
        quote!(summary: #summary),
        quote!(description: #description),
    ]);
    if f.operation != Operation::Read {
        let operation = operation_tokens(f.operation);
        fields.push(quote!(operation: #operation));
    }
    if f.destructive {
        fields.push(quote!(destructive: true));
    }
    // `FunctionMeta::DEFAULT` is a GET, so idempotent: only the exceptions are written.
    if !f.idempotent {
        fields.push(quote!(idempotent: false));
    }
    if f.method != Method::Get {
        let method = method_tokens(f.method);
        fields.push(quote!(method: #method));
    }
    fields.push(quote!(path: #path));
    if !f.params.is_empty() {
        let params = f.params.iter().map(param_tokens);
        fields.push(quote!(params: &[#(#params),*]));
    }
    if let Some(p) = &f.pagination {
        let pagination = pagination_tokens(p);
        fields.push(quote!(pagination: Some(#pagination)));
    }
    let doc = format!(" `{name}`: {summary}");
    let rest = struct_update(
        fields.len(),
        FUNCTION_META_FIELDS,
        quote!(FunctionMeta::DEFAULT),
    );
    quote! {
        #[doc = #doc]
        pub static #name_static: FunctionMeta = FunctionMeta {
            #(#fields,)*
            #rest
        };
    }
}

/// `&Pagination { … }` with every field written.
fn pagination_tokens(p: &Pagination) -> TokenStream {
    let (limit, offset, items) = (&p.limit_param, &p.offset_param, &p.items);
    let size = TokenLiteral::u64_unsuffixed(p.page_size);
    let with = p.with.iter().filter_map(|(key, value)| {
        let value = literal_tokens(value)?;
        Some(quote!((#key, #value)))
    });
    let total = match (&p.total_pointer, &p.total_function) {
        (_, Some((function, pointer))) => {
            quote!(Total::Function { function: #function, pointer: #pointer })
        }
        (Some(pointer), None) => quote!(Total::InPage(#pointer)),
        (None, None) => quote!(Total::Unknown),
    };
    quote! {
        &Pagination {
            limit_param: #limit,
            offset_param: #offset,
            page_size: #size,
            items: #items,
            with: &[#(#with),*],
            total: #total,
        }
    }
}

fn route_tokens(route: &Route) -> TokenStream {
    let method = method_tokens(route.method);
    let path = &route.path;
    quote!(Route { method: #method, path: #path })
}

/// `RateLimits { … }`, or `RateLimits::NONE` when the manifest declares none.
fn rate_limits_tokens(limits: &RateLimits) -> TokenStream {
    if limits.tiers.is_empty() && limits.endpoints.is_empty() {
        return quote!(kosmo_runtime::RateLimits::NONE);
    }
    let credential = &limits.tier_credential;
    let tiers = limits.tiers.iter().map(|t| {
        let (name, prefix) = (&t.name, &t.key_prefix);
        let requests = TokenLiteral::u32_unsuffixed(t.requests);
        let window = TokenLiteral::u64_unsuffixed(t.window_ms);
        quote!(RateTier { name: #name, key_prefix: #prefix, requests: #requests, window_ms: #window })
    });
    let exempt = limits.exempt.iter().map(route_tokens);
    let endpoints = limits.endpoints.iter().map(|e| {
        let (name, per_resource) = (&e.name, e.per_resource);
        let requests = TokenLiteral::u32_unsuffixed(e.requests);
        let window = TokenLiteral::u64_unsuffixed(e.window_ms);
        let routes = e.routes.iter().map(route_tokens);
        quote! {
            EndpointLimit {
                name: #name,
                routes: &[#(#routes),*],
                requests: #requests,
                window_ms: #window,
                per_resource: #per_resource,
            }
        }
    });
    quote! {
        RateLimits {
            tier_credential: #credential,
            tiers: &[#(#tiers),*],
            exempt: &[#(#exempt),*],
            endpoints: &[#(#endpoints),*],
        }
    }
}

/// Fields of `kosmo_runtime::FunctionMeta`, `CredentialMeta` and `ErrorFormat`.
const FUNCTION_META_FIELDS: usize = 14;
const CREDENTIAL_META_FIELDS: usize = 7;
const ERROR_FORMAT_FIELDS: usize = 6;

/// `..DEFAULT` for a struct literal that leaves some of its `total` fields unsaid; nothing when
/// every field is written (clippy refuses a needless update).
fn struct_update(written: usize, total: usize, default: TokenStream) -> TokenStream {
    if written < total {
        quote!(..#default)
    } else {
        TokenStream::new()
    }
}

fn pointers(list: &[String]) -> TokenStream {
    quote!(&[#(#list),*])
}

/// The function table and the provider description, after the per-function statics.
fn meta_tail(provider: &Provider) -> TokenStream {
    let refs = provider.functions.iter().map(|f| {
        let s = format_ident!("{}", f.meta_static);
        quote!(&#s)
    });
    let count = TokenLiteral::usize_unsuffixed(provider.functions.len());
    let credentials = provider.credentials.iter().map(|c| {
        let (name, description) = (&c.name, &c.description);
        let mut fields = vec![quote!(name: #name), quote!(description: #description)];
        if c.required {
            fields.push(quote!(required: true));
        }
        if c.secret {
            fields.push(quote!(secret: true));
        }
        if let Some(env) = &c.env {
            fields.push(quote!(env: Some(#env)));
        }
        if let Some(prefix) = &c.prefix {
            fields.push(quote!(prefix: Some(#prefix)));
        }
        if !c.reject_prefixes.is_empty() {
            let rejects = c.reject_prefixes.iter().map(|(p, r)| quote!((#p, #r)));
            fields.push(quote!(reject_prefixes: &[#(#rejects),*]));
        }
        let rest = struct_update(
            fields.len(),
            CREDENTIAL_META_FIELDS,
            quote!(CredentialMeta::DEFAULT),
        );
        quote! {
            CredentialMeta {
                #(#fields,)*
                #rest
            }
        }
    });
    let errors = if has_error_format(provider) {
        let e = &provider.errors;
        let mut fields = Vec::new();
        for (key, list) in [
            ("message", &e.message),
            ("code", &e.code),
            ("long_message", &e.long_message),
            ("meta", &e.meta),
            ("trace_id", &e.trace_id),
            ("trace_id_headers", &e.trace_id_headers),
        ] {
            if !list.is_empty() {
                let key = format_ident!("{key}");
                let list = pointers(list);
                fields.push(quote!(#key: #list));
            }
        }
        let rest = struct_update(fields.len(), ERROR_FORMAT_FIELDS, quote!(ErrorFormat::NONE));
        quote!(ErrorFormat { #(#fields,)* #rest })
    } else {
        quote!(kosmo_runtime::ErrorFormat::NONE)
    };
    let (pname, label, description, category, docs_url, base_url, bearer, retry_after) = (
        &provider.name,
        &provider.label,
        &provider.description,
        &provider.category,
        &provider.docs_url,
        &provider.base_url,
        &provider.bearer_credential,
        &provider.retry_after_header,
    );
    let version_header = option(provider.version_header.as_ref(), |(h, v)| quote!((#h, #v)));
    let rate_limits = rate_limits_tokens(&provider.rate_limits);
    let families = provider.families.iter().map(|f| {
        let (name, title, summary) = (&f.name, &f.title, &f.summary);
        quote!(FamilyMeta { name: #name, title: #title, summary: #summary })
    });
    quote! {
        /// Every function, in manifest order.
        pub static FUNCTIONS: [&FunctionMeta; #count] = [#(#refs),*];

        pub static PROVIDER: ProviderMeta = ProviderMeta {
            name: #pname,
            label: #label,
            description: #description,
            category: #category,
            docs_url: #docs_url,
            base_url: #base_url,
            version_header: #version_header,
            bearer_credential: #bearer,
            credentials: &[#(#credentials),*],
            errors: #errors,
            retry_after_header: #retry_after,
            rate_limits: #rate_limits,
            families: &[#(#families),*],
            functions: &FUNCTIONS,
        };
    }
}
