//! Rust output: parameter structs, async handlers, static metadata, the dispatcher and the Lua
//! registration, built as token streams with `quote` and printed with `prettyplease`.

use proc_macro2::{Ident, Literal as TokenLiteral, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::GeneratedFile;
use crate::manifest::{ParamType, ScalarType};
use crate::model::{Function, Param, PathPart, Provider};

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
            ("lua.rs", pretty(lua_rs(provider))?),
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
    Ok(prettyplease::unparse(&file))
}

/// A file made of `head`, one item per function, then `tail`.
///
/// Parsing and printing dominate generation time, and prettyplease prints each top-level item
/// on its own, so the per-function items are built, parsed and printed on all cores in contiguous
/// chunks and joined in manifest order: the output is the same as printing the file whole.
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
                    let tokens: TokenStream = part.iter().map(item).collect();
                    pretty(tokens)
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
    let mut out = pretty(head)?;
    for part in body {
        out.push_str(&part?);
    }
    out.push_str(&pretty(tail)?);
    Ok(out)
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
mlua.workspace = true
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
    let metas = providers.iter().map(|p| {
        let m = ident(&p.module);
        quote!(&#m::meta::PROVIDER)
    });
    let count = TokenLiteral::usize_unsuffixed(providers.len());
    let tokens = quote! {
        //! Integration functions generated from the manifests in `spec/`.
        //!
        //! Each provider module has `params` (argument structs), `handlers` (one async function per
        //! manifest function), `meta` (static descriptions), `call` (dispatch by name) and `lua`
        //! (registration under `app.integrations.<provider>`).
        // prettyplease formats these modules; rustfmt would re-wrap them differently.
        #(#[rustfmt::skip] pub mod #modules;)*

        /// Every provider in this crate.
        pub static PROVIDERS: [&kosmo_runtime::ProviderMeta; #count] = [#(#metas),*];
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
    quote! {
        //! The generated documentation, embedded: what `docs.read` and `kosmo integrations:docs` show.
        /// The provider page: description, credentials, every function, guides.
        pub const PROVIDER_PAGE: &str = include_str!(#readme);
        /// The agent-facing namespace reference.
        pub const NAMESPACE: &str = include_str!(#namespace);
        /// The catalog entry, as JSON.
        pub const CATALOG_JSON: &str = include_str!(#catalog);
        /// One page per function, by Lua name, in manifest order.
        pub static FUNCTION_PAGES: &[(&str, &str)] = &[#(#pages),*];
        /// The page of the function `name` answers to (Lua name, slug or alias).
        pub fn function_page(name: &str) -> Option<&'static str> {
            let function = super::meta::PROVIDER.function(name)?;
            FUNCTION_PAGES.iter().find(|(n, _)| *n == function.name).map(|(_, page)| *page)
        }
    }
}

fn module_rs(provider: &Provider) -> TokenStream {
    let doc = format!(" {}: {}", provider.label, provider.description);
    let arms = provider.functions.iter().map(|f| {
        let names = std::iter::once(&f.name)
            .chain(std::iter::once(&f.slug))
            .chain(f.aliases.iter());
        let handler = ident(&f.rust_name);
        let meta = format_ident!("{}", f.meta_static);
        quote! {
            #(#names)|* => handlers::#handler(transport, parse_args(&meta::#meta, args)?).await
        }
    });
    quote! {
        #![doc = #doc]
        pub mod docs;
        pub mod handlers;
        pub mod lua;
        pub mod meta;
        pub mod params;

        use std::sync::Arc;

        use kosmo_runtime::args::parse_args;
        use kosmo_runtime::lua::Dispatch;
        use kosmo_runtime::{Error, FunctionMeta, Transport, TransportFuture};
        use serde_json::Value;

        /// Calls the function `function` (Lua name, full slug or alias) with a JSON argument table.
        /// Arguments are checked against the manifest before anything is sent.
        pub async fn call(transport: &dyn Transport, function: &str, args: Value) -> Result<Value, Error> {
            match function {
                #(#arms,)*
                _ => Err(meta::PROVIDER.unknown_function(function)),
            }
        }

        /// Runs this provider's functions over a shared transport; what the Lua registration uses.
        pub struct Dispatcher {
            transport: Arc<dyn Transport>,
        }

        impl Dispatcher {
            pub fn new(transport: Arc<dyn Transport>) -> Self {
                Dispatcher { transport }
            }
        }

        impl Dispatch for Dispatcher {
            fn call(&self, function: &'static FunctionMeta, args: Value) -> TransportFuture<'_> {
                Box::pin(call(self.transport.as_ref(), function.name, args))
            }
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
        let ty = rust_type(p.param_type);
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
            quote! {
                #[doc = #doc]
                #[serde(default, skip_serializing_if = "Option::is_none")]
                #rename
                #(#aliases)*
                pub #field: Option<#ty>
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct #name {
            #(#fields,)*
        }
    }
}

fn handlers_rs(provider: &Provider) -> Result<String, syn::Error> {
    let head = quote! {
        //! One async handler per function: builds the request the manifest describes and sends it.
        use kosmo_runtime::{ApiRequest, Error, Method, Transport};
        use serde_json::Value;

        use super::params::*;
    };
    pretty_per_function(head, &provider.functions, handler, TokenStream::new())
}

fn method_tokens(method: &str) -> TokenStream {
    match method {
        "GET" => quote!(Method::Get),
        "POST" => quote!(Method::Post),
        "PUT" => quote!(Method::Put),
        "PATCH" => quote!(Method::Patch),
        _ => quote!(Method::Delete),
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
            let wire = &p.wire_name;
            let value = field(p);
            let text = match p.param_type {
                ParamType::Scalar(ScalarType::String) => quote!(&params.#value),
                _ => quote!(&params.#value.to_string()),
            };
            if matches!(part, PathPart::Relative { .. }) {
                quote!(request.push_relative_path(#wire, #text, transport.base_url())?;)
            } else {
                quote!(request.push_segment(#wire, #text)?;)
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
    let declared = f
        .params
        .iter()
        .filter(|p| p.location != "path" && !p.spread)
        .map(|p| {
            let wire = &p.wire_name;
            let value = field(p);
            let push = match p.location {
                "query" => quote!(request.push_query(#wire, value);),
                _ => quote!(request.set_body_field(#wire, value);),
            };
            if p.required {
                quote! { let value = params.#value; #push }
            } else {
                quote! { if let Some(value) = params.#value { #push } }
            }
        });
    // Spread tables go last so declared parameters always win.
    let spread = f.params.iter().filter(|p| p.spread).map(|p| {
        let value = field(p);
        let merge = match p.location {
            "query" => quote!(request.merge_query_map(&map);),
            _ => quote!(request.merge_body_map(map);),
        };
        if p.required {
            quote! { let map = params.#value; #merge }
        } else {
            quote! { if let Some(map) = params.#value { #merge } }
        }
    });
    let uses_params = f.params.is_empty().then(|| quote!(let _ = params;));
    let send = match &f.response {
        None => quote!(transport.send(request).await),
        Some(wrap) => {
            let nest = &wrap.nest_under;
            let fields = wrap.with_fields.iter().map(|(k, v)| {
                let v = value_tokens(v);
                quote!(wrapped.insert(#k.to_string(), #v);)
            });
            quote! {
                let response = transport.send(request).await?;
                let mut wrapped = serde_json::Map::new();
                #(#fields)*
                wrapped.insert(#nest.to_string(), response);
                Ok(Value::Object(wrapped))
            }
        }
    };
    let mutability = if f.path_parts.len() + f.fixed_query.len() + f.params.len() > 0 {
        quote!(mut)
    } else {
        quote!()
    };
    quote! {
        #[doc = #doc_summary]
        #[doc = ""]
        #[doc = #doc_route]
        pub async fn #name(transport: &dyn Transport, params: #params_type) -> Result<Value, Error> {
            #uses_params
            let #mutability request = ApiRequest::new(#fname, #method);
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
    }
}

fn meta_rs(provider: &Provider) -> Result<String, syn::Error> {
    let head = quote! {
        //! Static descriptions of the provider and each function, for introspection, docs and
        //! argument checks.
        use kosmo_runtime::meta::CredentialMeta;
        use kosmo_runtime::{FunctionMeta, Literal, Method, Operation, ParamLocation, ParamMeta, ParamType, ProviderMeta};
    };
    pretty_per_function(head, &provider.functions, meta_static, meta_tail(provider))
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
    let aliases = &f.aliases;
    let operation = if f.operation == "read" {
        quote!(Operation::Read)
    } else {
        quote!(Operation::Write)
    };
    let destructive = f.destructive;
    let method = method_tokens(f.method);
    let schema = f.input_schema().to_string();
    let params = f.params.iter().map(|p| {
        let (name, wire, description) = (&p.name, &p.wire_name, &p.description);
        let aliases = &p.aliases;
        let location = match p.location {
            "path" => quote!(ParamLocation::Path),
            "query" => quote!(ParamLocation::Query),
            _ => quote!(ParamLocation::Body),
        };
        let ty = param_type_tokens(p.param_type);
        let required = p.required;
        let default = option(p.default.as_ref().and_then(literal_tokens), |t| t);
        let minimum = option(p.minimum, |m| {
            let lit = TokenLiteral::f64_suffixed(m);
            quote!(#lit)
        });
        let maximum = option(p.maximum, |m| {
            let lit = TokenLiteral::f64_suffixed(m);
            quote!(#lit)
        });
        let max_items = option(p.max_items, |m| quote!(#m));
        let allowed = p.allowed.iter().filter_map(literal_tokens);
        let spread = p.spread;
        quote! {
            ParamMeta {
                name: #name,
                wire_name: #wire,
                aliases: &[#(#aliases),*],
                location: #location,
                ty: #ty,
                required: #required,
                description: #description,
                default: #default,
                minimum: #minimum,
                maximum: #maximum,
                max_items: #max_items,
                allowed: &[#(#allowed),*],
                spread: #spread,
            }
        }
    });
    let doc = format!(" `{name}`: {summary}");
    quote! {
        #[doc = #doc]
        pub static #name_static: FunctionMeta = FunctionMeta {
            name: #name,
            slug: #slug,
            aliases: &[#(#aliases),*],
            title: #title,
            group: #group,
            summary: #summary,
            description: #description,
            operation: #operation,
            destructive: #destructive,
            method: #method,
            path: #path,
            params: &[#(#params),*],
            input_schema: #schema,
        };
    }
}

/// The function table and the provider description, after the per-function statics.
fn meta_tail(provider: &Provider) -> TokenStream {
    let refs = provider.functions.iter().map(|f| {
        let s = format_ident!("{}", f.meta_static);
        quote!(&#s)
    });
    let count = TokenLiteral::usize_unsuffixed(provider.functions.len());
    let credentials = provider.credentials.iter().map(|c| {
        let (name, description, required, secret) = (&c.name, &c.description, c.required, c.secret);
        let env = option(c.env.as_ref(), |e| quote!(#e));
        let prefix = option(c.prefix.as_ref(), |p| quote!(#p));
        let rejects = c.reject_prefixes.iter().map(|(p, r)| quote!((#p, #r)));
        quote! {
            CredentialMeta {
                name: #name,
                description: #description,
                required: #required,
                secret: #secret,
                env: #env,
                prefix: #prefix,
                reject_prefixes: &[#(#rejects),*],
            }
        }
    });
    let (pname, label, description, category, docs_url, base_url, bearer) = (
        &provider.name,
        &provider.label,
        &provider.description,
        &provider.category,
        &provider.docs_url,
        &provider.base_url,
        &provider.bearer_credential,
    );
    let version_header = option(provider.version_header.as_ref(), |(h, v)| quote!((#h, #v)));
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
            functions: &FUNCTIONS,
        };
    }
}

fn lua_rs(provider: &Provider) -> TokenStream {
    let name = &provider.name;
    let doc = format!(
        " Registers `app.integrations.{name}`: every function under its Lua name, full slug and aliases."
    );
    quote! {
        #![doc = #doc]
        use std::sync::Arc;

        use kosmo_runtime::Transport;
        use mlua::{Lua, Table};

        use super::{Dispatcher, meta::PROVIDER};

        /// A table of this provider's functions, each calling through `transport`.
        pub fn table(lua: &Lua, transport: Arc<dyn Transport>) -> mlua::Result<Table> {
            kosmo_runtime::lua::provider_table(lua, &PROVIDER, Arc::new(Dispatcher::new(transport)))
        }

        /// Sets `integrations.<provider>` (the `app.integrations` table) to this provider's functions.
        pub fn register(lua: &Lua, integrations: &Table, transport: Arc<dyn Transport>) -> mlua::Result<()> {
            integrations.set(#name, table(lua, transport)?)
        }
    }
}
