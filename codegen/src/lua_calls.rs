//! Finds the calls a Lua snippet makes into `app.integrations.<provider>`, so examples can be
//! checked against the manifest (unknown functions, unknown parameters) without running them.

use std::collections::HashMap;

use full_moon::LuaVersion;
use full_moon::ast::{
    Assignment, Block, Call, Expression, Field, FunctionArgs, FunctionBody, FunctionCall,
    FunctionDeclaration, GenericFor, Index, LocalAssignment, LocalFunction, NumericFor, Parameter,
    Prefix, Repeat, Suffix, TableConstructor, Var, VarExpression,
};
use full_moon::node::Node;
use full_moon::tokenizer::{Lexer, LexerResult, TokenReference, TokenType};
use full_moon::visitors::Visitor;

/// A call of an integration function found in a Lua snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationCall {
    /// The name after the namespace (and account), e.g. "list_users"; `each.list_users` for the
    /// paging iterator.
    pub function: String,
    /// Named keys of the table constructor argument, in source order, e.g. ["query", "limit"]; None when the argument is not a literal table constructor (e.g. a variable), in which case parameters cannot be checked.
    pub keys: Option<Vec<String>>,
    /// 1-based line and column of the call within the snippet.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}, column {column}: {message}")]
pub struct LuaSyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses `code` and returns every call into `app.integrations.<namespace>.<fn>`, in source order.
pub fn find_integration_calls(
    code: &str,
    namespace: &str,
) -> Result<Vec<IntegrationCall>, LuaSyntaxError> {
    // full_moon 3.0 panics when a Luau attribute's `@` is followed by a token it cannot lex
    // (`@\`, found by the manifest property test): lexing first, and stopping at the first
    // lexer error, keeps such text away from the parser.
    if let LexerResult::Fatal(errors) | LexerResult::Recovered(_, errors) =
        Lexer::new(code, LuaVersion::new()).collect()
    {
        let (line, column, message) = match errors.first() {
            Some(error) => (
                error.position().line(),
                error.position().character(),
                error.error().to_string(),
            ),
            None => (1, 1, "invalid Lua".to_string()),
        };
        return Err(LuaSyntaxError {
            line,
            column,
            message,
        });
    }
    let ast = full_moon::parse(code).map_err(|errors| match errors.first() {
        Some(error) => {
            let start = error.range().0;
            LuaSyntaxError {
                line: start.line(),
                column: start.character(),
                message: error.error_message().into_owned(),
            }
        }
        // full_moon always reports at least one error; this is only a safe fallback.
        None => LuaSyntaxError {
            line: 1,
            column: 1,
            message: "invalid Lua".to_string(),
        },
    })?;
    let mut finder = CallFinder::new(namespace);
    finder.visit_ast(&ast);
    let mut calls = finder.calls;
    // The visitor sees an outer chain before calls nested in its arguments; positions decide.
    calls.sort_by_key(|call| (call.line, call.column));
    Ok(calls)
}

/// Where a value comes from, as the field names after the global `app`:
/// `[]` is `app`, `["integrations", ns]` the namespace, `["integrations", ns, x]` an account or
/// function, `["integrations", ns, account, fn]` a function of an account.
type AppPath = Vec<String>;

/// Longest path that can still be called as an integration function
/// (`["integrations", ns, account, "each", fn]`).
const MAX_PATH: usize = 5;

/// The table of paging iterators in a namespace or account table.
const ITERATORS: &str = "each";

struct CallFinder<'a> {
    namespace: &'a str,
    /// Lexical scopes, innermost last. `None` marks a local that shadows without being an alias.
    scopes: Vec<HashMap<String, Option<AppPath>>>,
    /// Globals assigned an `app` path (`acme = app.integrations.acme`).
    globals: HashMap<String, AppPath>,
    /// Loop variables and parameters that belong to a block not yet entered (the loop header's
    /// expressions are visited first and must not see them).
    pending: Vec<(*const Block, Vec<String>)>,
    /// Blocks of `repeat ... until`, whose locals stay visible in the `until` condition.
    repeat_blocks: Vec<*const Block>,
    calls: Vec<IntegrationCall>,
}

impl<'a> CallFinder<'a> {
    fn new(namespace: &'a str) -> Self {
        Self {
            namespace,
            scopes: vec![HashMap::new()],
            globals: HashMap::new(),
            pending: Vec::new(),
            repeat_blocks: Vec::new(),
            calls: Vec::new(),
        }
    }

    fn lookup(&self, name: &str) -> Option<AppPath> {
        for scope in self.scopes.iter().rev() {
            if let Some(binding) = scope.get(name) {
                return binding.clone();
            }
        }
        if let Some(path) = self.globals.get(name) {
            return Some(path.clone());
        }
        (name == "app").then(Vec::new)
    }

    fn declare(&mut self, name: String, value: Option<AppPath>) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name, value);
        }
    }

    /// A plain `name = value`: rebinds the innermost local of that name, else a global.
    fn assign(&mut self, name: &str, value: Option<AppPath>) {
        for scope in self.scopes.iter_mut().rev() {
            if let Some(binding) = scope.get_mut(name) {
                *binding = value;
                return;
            }
        }
        match value {
            Some(path) => {
                self.globals.insert(name.to_string(), path);
            }
            None => {
                self.globals.remove(name);
            }
        }
    }

    /// Appends a field; gives up as soon as the path can no longer reach this namespace.
    fn extend(&self, mut path: AppPath, field: String) -> Option<AppPath> {
        path.push(field);
        let on_track = path.len() <= MAX_PATH
            && path.first().is_none_or(|p| p == "integrations")
            && path.get(1).is_none_or(|p| p == self.namespace);
        on_track.then_some(path)
    }

    fn resolve_expression(&self, expression: &Expression) -> Option<AppPath> {
        match expression {
            Expression::Parentheses { expression, .. } => self.resolve_expression(expression),
            Expression::Var(Var::Name(name)) => self.lookup(&token_text(name)?),
            Expression::Var(Var::Expression(var)) => {
                self.resolve_chain(var.prefix(), var.suffixes())
            }
            _ => None,
        }
    }

    fn resolve_prefix(&self, prefix: &Prefix) -> Option<AppPath> {
        match prefix {
            Prefix::Name(name) => self.lookup(&token_text(name)?),
            Prefix::Expression(expression) => self.resolve_expression(expression),
            _ => None,
        }
    }

    /// Follows `prefix.a.b` without recording anything; a call in the chain makes it unknown.
    fn resolve_chain<'s>(
        &self,
        prefix: &Prefix,
        suffixes: impl Iterator<Item = &'s Suffix>,
    ) -> Option<AppPath> {
        let mut current = self.resolve_prefix(prefix);
        for suffix in suffixes {
            current = match suffix {
                Suffix::Index(index) => current.and_then(|p| self.extend(p, index_name(index)?)),
                _ => None,
            };
        }
        current
    }

    /// Walks a chain and records each call whose callee is an integration function.
    fn scan_chain<'s>(&mut self, prefix: &Prefix, suffixes: impl Iterator<Item = &'s Suffix>) {
        let (line, column) = prefix
            .start_position()
            .map_or((0, 0), |p| (p.line(), p.character()));
        let mut current = self.resolve_prefix(prefix);
        for suffix in suffixes {
            current = match suffix {
                Suffix::Index(index) => current.and_then(|p| self.extend(p, index_name(index)?)),
                Suffix::Call(Call::AnonymousCall(args)) => {
                    if let Some(function) = current.as_deref().and_then(called_function) {
                        self.calls.push(IntegrationCall {
                            function,
                            keys: argument_keys(args),
                            line,
                            column,
                        });
                    }
                    // What a call returns is unknown.
                    None
                }
                // Method calls (`:`) are not integration calls; Luau type instantiations are rare.
                _ => None,
            };
        }
    }
}

/// `app.integrations.ns.fn` or `app.integrations.ns.account.fn` yields `fn`; the iterator
/// `app.integrations.ns[.account].each.fn` yields `each.fn`.
fn called_function(path: &[String]) -> Option<String> {
    match path {
        [_, _, each, function] | [_, _, _, each, function] if each == ITERATORS => {
            Some(format!("{ITERATORS}.{function}"))
        }
        [_, _, function] | [_, _, _, function] => Some(function.clone()),
        _ => None,
    }
}

/// The name of `.name` or `["name"]`.
fn index_name(index: &Index) -> Option<String> {
    match index {
        Index::Dot { name, .. } => token_text(name),
        Index::Brackets { expression, .. } => match strip_parentheses(expression) {
            Expression::String(string) => token_text(string),
            _ => None,
        },
        _ => None,
    }
}

/// Identifier or string contents (escapes are left as written).
fn token_text(token: &TokenReference) -> Option<String> {
    match token.token().token_type() {
        TokenType::Identifier { identifier } => Some(identifier.to_string()),
        TokenType::StringLiteral { literal, .. } => Some(literal.to_string()),
        _ => None,
    }
}

fn argument_keys(args: &FunctionArgs) -> Option<Vec<String>> {
    match args {
        FunctionArgs::Parentheses { arguments, .. } => match arguments.iter().next() {
            None => Some(Vec::new()),
            Some(first) => table_keys(strip_parentheses(first)),
        },
        FunctionArgs::TableConstructor(table) => Some(constructor_keys(table)),
        _ => None,
    }
}

fn strip_parentheses(mut expression: &Expression) -> &Expression {
    while let Expression::Parentheses {
        expression: inner, ..
    } = expression
    {
        expression = inner;
    }
    expression
}

fn table_keys(expression: &Expression) -> Option<Vec<String>> {
    match expression {
        Expression::TableConstructor(table) => Some(constructor_keys(table)),
        _ => None,
    }
}

/// `name = v` and `["name"] = v`; positional and computed keys say nothing about parameters.
fn constructor_keys(table: &TableConstructor) -> Vec<String> {
    table
        .fields()
        .iter()
        .filter_map(|field| match field {
            Field::NameKey { key, .. } => token_text(key),
            Field::ExpressionKey { key, .. } => match strip_parentheses(key) {
                Expression::String(string) => token_text(string),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

impl Visitor for CallFinder<'_> {
    fn visit_block(&mut self, block: &Block) {
        let mut scope = HashMap::new();
        let key: *const Block = block;
        if let Some(at) = self
            .pending
            .iter()
            .rposition(|(b, _)| std::ptr::eq(*b, key))
        {
            let (_, names) = self.pending.swap_remove(at);
            scope.extend(names.into_iter().map(|name| (name, None)));
        }
        self.scopes.push(scope);
    }

    fn visit_block_end(&mut self, block: &Block) {
        let key: *const Block = block;
        // A repeat block's scope is closed after its `until` condition instead.
        if !self.repeat_blocks.iter().any(|b| std::ptr::eq(*b, key)) {
            self.scopes.pop();
        }
    }

    fn visit_repeat(&mut self, repeat: &Repeat) {
        self.repeat_blocks.push(repeat.block());
    }

    fn visit_repeat_end(&mut self, _repeat: &Repeat) {
        self.repeat_blocks.pop();
        self.scopes.pop();
    }

    fn visit_function_body(&mut self, body: &FunctionBody) {
        let names = body
            .parameters()
            .iter()
            .filter_map(|parameter| match parameter {
                Parameter::Name(name) => token_text(name),
                _ => None,
            })
            .collect();
        self.pending.push((body.block(), names));
    }

    fn visit_numeric_for(&mut self, numeric_for: &NumericFor) {
        let names = token_text(numeric_for.index_variable())
            .into_iter()
            .collect();
        self.pending.push((numeric_for.block(), names));
    }

    fn visit_generic_for(&mut self, generic_for: &GenericFor) {
        let names = generic_for.names().iter().filter_map(token_text).collect();
        self.pending.push((generic_for.block(), names));
    }

    fn visit_local_function(&mut self, function: &LocalFunction) {
        // Bound before its body, so recursion sees it.
        if let Some(name) = token_text(function.name()) {
            self.declare(name, None);
        }
    }

    fn visit_function_declaration(&mut self, declaration: &FunctionDeclaration) {
        let name = declaration.name();
        let mut names = name.names().iter();
        if let (Some(only), None, None) = (names.next(), names.next(), name.method_name())
            && let Some(only) = token_text(only)
        {
            self.assign(&only, None);
        }
    }

    fn visit_local_assignment_end(&mut self, assignment: &LocalAssignment) {
        // Values are resolved before the names exist: `local acme = acme.work` reads the outer one.
        let mut values = assignment.expressions().iter();
        let bindings: Vec<_> = assignment
            .names()
            .iter()
            .map(|name| {
                (
                    token_text(name),
                    values.next().and_then(|v| self.resolve_expression(v)),
                )
            })
            .collect();
        for (name, value) in bindings {
            if let Some(name) = name {
                self.declare(name, value);
            }
        }
    }

    fn visit_assignment_end(&mut self, assignment: &Assignment) {
        let mut values = assignment.expressions().iter();
        let bindings: Vec<_> = assignment
            .variables()
            .iter()
            .map(|var| {
                let value = values.next().and_then(|v| self.resolve_expression(v));
                match var {
                    Var::Name(name) => (token_text(name), value),
                    _ => (None, None),
                }
            })
            .collect();
        for (name, value) in bindings {
            if let Some(name) = name {
                self.assign(&name, value);
            }
        }
    }

    fn visit_function_call(&mut self, call: &FunctionCall) {
        self.scan_chain(call.prefix(), call.suffixes());
    }

    // `app.integrations.acme.list_users({}).data` is a variable, not a FunctionCall node.
    fn visit_var_expression(&mut self, var: &VarExpression) {
        self.scan_chain(var.prefix(), var.suffixes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(code: &str) -> Vec<IntegrationCall> {
        match find_integration_calls(code, "acme") {
            Ok(calls) => calls,
            Err(error) => panic!("unexpected syntax error: {error}"),
        }
    }

    /// (function, keys) pairs, ignoring positions.
    fn summary(code: &str) -> Vec<(String, Option<Vec<String>>)> {
        calls(code)
            .into_iter()
            .map(|call| (call.function, call.keys))
            .collect()
    }

    fn keys(names: &[&str]) -> Option<Vec<String>> {
        Some(names.iter().map(|name| name.to_string()).collect())
    }

    fn call(function: &str, keys_: Option<Vec<String>>) -> (String, Option<Vec<String>>) {
        (function.to_string(), keys_)
    }

    #[test]
    fn direct_call_with_table() {
        assert_eq!(
            calls("app.integrations.acme.list_users({ limit = 20 })"),
            vec![IntegrationCall {
                function: "list_users".to_string(),
                keys: keys(&["limit"]),
                line: 1,
                column: 1,
            }]
        );
    }

    #[test]
    fn table_call_sugar() {
        assert_eq!(
            summary("local r = app.integrations.acme.list_users{ limit = 20, query = 'a' }"),
            vec![call("list_users", keys(&["limit", "query"]))]
        );
    }

    #[test]
    fn no_arguments_means_no_keys() {
        assert_eq!(
            summary("app.integrations.acme.list_users()"),
            vec![call("list_users", keys(&[]))]
        );
    }

    #[test]
    fn empty_table() {
        assert_eq!(
            summary("app.integrations.acme.list_users({})"),
            vec![call("list_users", keys(&[]))]
        );
    }

    #[test]
    fn keys_in_source_order_and_only_named() {
        let code = r#"app.integrations.acme.list_users({
            "positional",
            query = "x",
            ["order-by"] = "name",
            [1] = "numeric key",
            [some_var] = "computed",
            limit = 10,
            ['single'] = true,
            [ [[long]] ] = 1,
        })"#;
        assert_eq!(
            summary(code),
            vec![call(
                "list_users",
                keys(&["query", "order-by", "limit", "single", "long"])
            )]
        );
    }

    #[test]
    fn non_literal_argument_has_no_keys() {
        assert_eq!(
            summary(
                "local params = { limit = 1 }\n\
                 app.integrations.acme.list_users(params)\n\
                 app.integrations.acme.list_users(make())\n\
                 app.integrations.acme.list_users 'string'\n\
                 app.integrations.acme.list_users(nil)"
            ),
            vec![
                call("list_users", None),
                call("list_users", None),
                call("list_users", None),
                call("list_users", None),
            ]
        );
    }

    #[test]
    fn first_argument_is_the_parameter_table() {
        assert_eq!(
            summary("app.integrations.acme.get_user(({ id = 1 }), 'extra')"),
            vec![call("get_user", keys(&["id"]))]
        );
    }

    #[test]
    fn local_alias_of_namespace() {
        let code = "local acme = app.integrations.acme\nlocal user = acme.get_user({ id = x })";
        assert_eq!(
            calls(code),
            vec![IntegrationCall {
                function: "get_user".to_string(),
                keys: keys(&["id"]),
                line: 2,
                column: 14,
            }]
        );
    }

    #[test]
    fn alias_of_alias_and_of_integrations() {
        let code = "local integrations = app.integrations\n\
                    local c = integrations.acme\n\
                    local d = c\n\
                    d.list_users({})\n\
                    integrations.acme.get_user({ id = 1 })\n\
                    local a = app\n\
                    a.integrations.acme.delete_user({ id = 2 })";
        assert_eq!(
            summary(code),
            vec![
                call("list_users", keys(&[])),
                call("get_user", keys(&["id"])),
                call("delete_user", keys(&["id"])),
            ]
        );
    }

    #[test]
    fn account_segment_direct() {
        assert_eq!(
            summary(
                "app.integrations.acme.default.list_users({})\n\
                 app.integrations.acme.work.list_users({ limit = 1 })"
            ),
            vec![
                call("list_users", keys(&[])),
                call("list_users", keys(&["limit"])),
            ]
        );
    }

    #[test]
    fn account_alias() {
        let code = "local c = app.integrations.acme.default\n\
                    local w = app.integrations.acme.work\n\
                    c.list_users({ limit = 5 })\n\
                    w.get_user{ id = 'u' }";
        assert_eq!(
            summary(code),
            vec![
                call("list_users", keys(&["limit"])),
                call("get_user", keys(&["id"])),
            ]
        );
    }

    #[test]
    fn account_via_namespace_alias() {
        let code = "local acme = app.integrations.acme\n\
                    acme.work.list_users({})\n\
                    local work = acme.work\n\
                    work.get_user({ id = 1 })";
        assert_eq!(
            summary(code),
            vec![
                call("list_users", keys(&[])),
                call("get_user", keys(&["id"]))
            ]
        );
    }

    #[test]
    fn iterators_are_calls_of_each_dot_function() {
        let code = "local acme = app.integrations.acme\n\
                    for u in acme.each.list_users({ limit = 5 }) do end\n\
                    for u in acme.work.each.list_users({}) do end\n\
                    acme.a.b.c({})";
        assert_eq!(
            summary(code),
            vec![
                call("each.list_users", keys(&["limit"])),
                call("each.list_users", keys(&[])),
            ]
        );
    }

    #[test]
    fn bracket_string_indexes() {
        assert_eq!(
            summary("app.integrations['acme'][\"list_users\"]({ limit = 1 })"),
            vec![call("list_users", keys(&["limit"]))]
        );
    }

    #[test]
    fn too_deep_or_too_shallow_chains_are_not_calls() {
        assert_eq!(
            summary(
                "app.integrations.acme({})\n\
                 app.integrations({})\n\
                 app.integrations.acme.a.b.c({})\n\
                 app({})"
            ),
            vec![]
        );
    }

    #[test]
    fn nested_calls() {
        let code = r#"
local function load(id)
  return app.integrations.acme.get_user({ id = id })
end
local ok, err = pcall(function()
  return app.integrations.acme.delete_user({ id = "1" })
end)
print(app.integrations.acme.list_users({ limit = 1 }))
dump({ users = app.integrations.acme.list_users({ query = "a" }) })
if ok then
  for i = 1, 3 do
    while true do
      local x = app.integrations.acme.count_users().total
      break
    end
  end
end
local t = { f = function() app.integrations.acme.ban_user{ id = 1 } end }
local s = "x" .. app.integrations.acme.whoami().name
"#;
        assert_eq!(
            summary(code),
            vec![
                call("get_user", keys(&["id"])),
                call("delete_user", keys(&["id"])),
                call("list_users", keys(&["limit"])),
                call("list_users", keys(&["query"])),
                call("count_users", keys(&[])),
                call("ban_user", keys(&["id"])),
                call("whoami", keys(&[])),
            ]
        );
    }

    #[test]
    fn call_in_arguments_of_an_integration_call() {
        let code = "app.integrations.acme.get_user({ id = app.integrations.acme.whoami().id })";
        let found = calls(code);
        assert_eq!(
            found
                .iter()
                .map(|c| (c.function.as_str(), c.column))
                .collect::<Vec<_>>(),
            vec![("get_user", 1), ("whoami", 39)]
        );
    }

    #[test]
    fn chained_result_is_not_a_call_of_the_namespace() {
        // Only the first call is into the namespace; `.next()` is on its result.
        assert_eq!(
            summary("app.integrations.acme.list_users({}).next({ page = 2 })"),
            vec![call("list_users", keys(&[]))]
        );
    }

    #[test]
    fn other_namespaces_are_ignored() {
        let code = "app.integrations.github.list_repos({ org = 'x' })\n\
                    local gh = app.integrations.github\n\
                    gh.list_users({})\n\
                    app.integrations.acme_two.list_users({})\n\
                    app.log.acme.list_users({})\n\
                    other.integrations.acme.list_users({})\n\
                    app.integrations.acme.list_users({})";
        let found = calls(code);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 7);
    }

    #[test]
    fn other_namespace_parameter() {
        let found = match find_integration_calls(
            "app.integrations.github.list_repos({ org = 'x' })\napp.integrations.acme.list_users({})",
            "github",
        ) {
            Ok(found) => found,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(
            found,
            vec![IntegrationCall {
                function: "list_repos".to_string(),
                keys: keys(&["org"]),
                line: 1,
                column: 1,
            }]
        );
    }

    #[test]
    fn method_calls_are_ignored() {
        assert_eq!(
            summary(
                "app.integrations.acme:list_users({})\n\
                 local acme = app.integrations.acme\n\
                 acme:get_user({ id = 1 })\n\
                 app.integrations.acme.default:list_users({})"
            ),
            vec![]
        );
    }

    #[test]
    fn references_without_calls_are_ignored() {
        assert_eq!(
            summary(
                "local f = app.integrations.acme.list_users\n\
                 local t = { app.integrations.acme.get_user }\n\
                 print(app.integrations.acme.list_users)"
            ),
            vec![]
        );
    }

    #[test]
    fn alias_of_a_function_is_called() {
        assert_eq!(
            summary("local list = app.integrations.acme.list_users\nlist({ limit = 1 })"),
            vec![call("list_users", keys(&["limit"]))]
        );
    }

    #[test]
    fn non_alias_locals_do_not_count() {
        assert_eq!(
            summary(
                "local acme = something_else\n\
                 acme.list_users({})\n\
                 local c = app.integrations.acme or {}\n\
                 c.list_users({})"
            ),
            vec![]
        );
    }

    #[test]
    fn shadowing_by_locals_parameters_and_loops() {
        let code = r#"
local acme = app.integrations.acme
local function f(acme)
  acme.not_this({})
end
for _, acme in ipairs(list) do
  acme.nor_this({})
end
for acme = 1, acme.header_sees_outer({}) do
  acme.nor_loop_var({})
end
do
  local acme = {}
  acme.nor_inner({})
end
acme.yes({})
local app = {}
app.integrations.acme.not_after_app_shadowed({})
"#;
        assert_eq!(
            summary(code),
            vec![call("header_sees_outer", keys(&[])), call("yes", keys(&[]))]
        );
    }

    #[test]
    fn local_declared_in_rhs_scope_uses_outer_binding() {
        let code = "local acme = app.integrations.acme\n\
                    do\n\
                      local acme = acme.work\n\
                      acme.list_users({})\n\
                    end";
        assert_eq!(summary(code), vec![call("list_users", keys(&[]))]);
    }

    #[test]
    fn alias_scope_ends_with_block() {
        let code = "do\n  local c = app.integrations.acme\n  c.inside({})\nend\nc.outside({})";
        assert_eq!(summary(code), vec![call("inside", keys(&[]))]);
    }

    #[test]
    fn reassignment_updates_alias() {
        let code = "local c = nil\n\
                    c.before({})\n\
                    c = app.integrations.acme\n\
                    c.after({})\n\
                    c = {}\n\
                    c.gone({})\n\
                    g = app.integrations.acme.work\n\
                    g.global_alias({})";
        assert_eq!(
            summary(code),
            vec![call("after", keys(&[])), call("global_alias", keys(&[]))]
        );
    }

    #[test]
    fn multiple_assignment_pairs_by_position() {
        let code = "local a, b, c = 1, app.integrations.acme\n\
                    a.no({})\n\
                    b.yes({})\n\
                    c.no({})";
        assert_eq!(summary(code), vec![call("yes", keys(&[]))]);
    }

    #[test]
    fn repeat_until_sees_block_locals() {
        let code = "repeat\n  local c = app.integrations.acme\nuntil c.done({})\nc.outside({})";
        assert_eq!(summary(code), vec![call("done", keys(&[]))]);
    }

    #[test]
    fn function_declaration_shadows_alias() {
        let code = "local acme = app.integrations.acme\n\
                    function acme() end\n\
                    acme.list_users({})";
        assert_eq!(summary(code), vec![]);
    }

    #[test]
    fn line_and_column() {
        let code = "-- fetch users\nlocal users = {}\n\tlocal r = app.integrations.acme.list_users({})\n  print(  (app.integrations.acme).get_user({ id = 1 }))\nlocal x = 1; app.integrations.acme.x{}";
        let found = calls(code);
        let positions: Vec<_> = found
            .iter()
            .map(|c| (c.function.as_str(), c.line, c.column))
            .collect();
        assert_eq!(
            positions,
            vec![("list_users", 3, 12), ("get_user", 4, 11), ("x", 5, 14)]
        );
    }

    #[test]
    fn column_counts_characters_not_bytes() {
        let found = calls("local s = 'héllo' app.integrations.acme.list_users({})");
        assert_eq!((found[0].line, found[0].column), (1, 19));
    }

    #[test]
    fn source_order_across_lines() {
        let code = "local a = app.integrations.acme.first({})\nlocal b = app.integrations.acme.second({})\nlocal c = app.integrations.acme.third({})";
        let lines: Vec<_> = calls(code)
            .into_iter()
            .map(|c| (c.function, c.line))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("first".to_string(), 1),
                ("second".to_string(), 2),
                ("third".to_string(), 3)
            ]
        );
    }

    #[test]
    fn empty_snippet() {
        assert_eq!(calls(""), vec![]);
        assert_eq!(calls("-- only a comment\n"), vec![]);
    }

    #[test]
    fn syntax_error_reports_position() {
        let error = match find_integration_calls("local x = 1\nlocal y = = 2", "acme") {
            Ok(calls) => panic!("expected an error, got {calls:?}"),
            Err(error) => error,
        };
        // full_moon points at the token after which an expression was missing: the `=`.
        assert_eq!((error.line, error.column), (2, 9));
        assert_eq!(error.message, "expected an expression");
        assert_eq!(
            error.to_string(),
            "line 2, column 9: expected an expression"
        );
    }

    /// full_moon 3.0 panicked on an attribute's `@` before a character it cannot lex; it is
    /// now a syntax error at that character (found by the manifest property test).
    #[test]
    fn an_attribute_before_an_unlexable_character_is_a_syntax_error() {
        for code in ["@\\", "local x = 1\n@\\"] {
            let error = match find_integration_calls(code, "acme") {
                Ok(calls) => panic!("expected an error, got {calls:?}"),
                Err(error) => error,
            };
            assert_eq!(error.column, 2, "{code:?}: {error}");
            assert!(error.message.contains('\\'), "{code:?}: {error}");
        }
    }

    #[test]
    fn syntax_error_unclosed_call() {
        let error = match find_integration_calls(
            "app.integrations.acme.list_users({ limit = 1 }",
            "acme",
        ) {
            Ok(calls) => panic!("expected an error, got {calls:?}"),
            Err(error) => error,
        };
        // Reported at the opening parenthesis.
        assert_eq!((error.line, error.column), (1, 33));
        assert!(error.message.contains("`)`"), "{}", error.message);
    }

    #[test]
    fn tokenizer_error_reports_position() {
        let error = match find_integration_calls("local s = 1\nlocal t = \"unterminated", "acme") {
            Ok(calls) => panic!("expected an error, got {calls:?}"),
            Err(error) => error,
        };
        assert_eq!((error.line, error.column), (2, 11));
        assert!(
            error.message.contains("unclosed string"),
            "{}",
            error.message
        );
    }

    #[test]
    fn luau_syntax_when_enabled() {
        // Only meaningful when full_moon is built with its `luau` feature.
        if !full_moon::LuaVersion::new().has_luau() {
            return;
        }
        let code = "local acme: any = app.integrations.acme\n\
                    local n = if x then 1 else 2\n\
                    local s = `hi {app.integrations.acme.whoami().name}`\n\
                    acme.list_users({ limit = n })";
        assert_eq!(
            summary(code),
            vec![
                call("whoami", keys(&[])),
                call("list_users", keys(&["limit"]))
            ]
        );
    }
}
