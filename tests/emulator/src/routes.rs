//! Which answer a `/v1` request gets: a stateful handler's, a mock built from the OpenAPI
//! document, or a 404. Built once when the emulator starts.
//!
//! Routes are path templates as the spec writes them (`/users/{user_id}`). A request matches a
//! template with as many segments whose literal segments are equal; of several matches the one
//! with a literal segment where the others have a placeholder, earliest, wins (`/users/count`
//! over `/users/{user_id}`). A stateful route and a spec operation with the same method and
//! template are the same operation, served statefully.

use kosmo_codegen::openapi::Document;
use serde::Serialize;
use serde_json::Value;

use crate::handlers::{self, Route};
use crate::mock::MockOperation;

/// The HTTP methods an OpenAPI path item can hold operations under.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How the emulator answers an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A handler keeps the objects in the store: created objects can be read back, updated and
    /// deleted, and unknown IDs are 404s.
    Stateful,
    /// An answer built from the spec's example or schema; the request is checked for the values
    /// the operation requires, and nothing is stored.
    Mocked,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Stateful => "stateful",
            Mode::Mocked => "mocked",
        }
    }
}

/// One operation the emulator answers, as `GET /__emulator/operations` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Operation {
    /// Upper-case: `GET`.
    pub method: String,
    /// The template as the spec writes it, without `/v1`: `/users/{user_id}`.
    pub path: String,
    /// The spec's `operationId`; `None` for a stateful route the document does not have.
    pub operation_id: Option<String>,
    /// Whether the spec marks the operation deprecated.
    pub deprecated: bool,
    pub mode: Mode,
}

/// A path template split into segments; `None` stands for a placeholder.
#[derive(Debug)]
struct Template(Vec<Option<String>>);

impl Template {
    fn parse(path: &str) -> Template {
        let segments = path.strip_prefix('/').unwrap_or(path);
        Template(
            segments
                .split('/')
                .map(|segment| {
                    let placeholder = segment.starts_with('{') && segment.ends_with('}');
                    (!placeholder).then(|| segment.to_string())
                })
                .collect(),
        )
    }

    /// The placeholder values when `segments` (decoded, after `/v1`) fit.
    fn capture(&self, segments: &[&str]) -> Option<Vec<String>> {
        if segments.len() != self.0.len() {
            return None;
        }
        let mut values = Vec::new();
        for (template, segment) in self.0.iter().zip(segments) {
            match template {
                Some(literal) if literal != segment => return None,
                Some(_) => {}
                None => values.push((*segment).to_string()),
            }
        }
        Some(values)
    }

    /// For precedence: literal segments as `true`, compared in order.
    fn literals(&self) -> Vec<bool> {
        self.0.iter().map(Option::is_some).collect()
    }

    /// The same template whatever its placeholders are called.
    fn same_shape(&self, other: &Template) -> bool {
        self.0 == other.0
    }
}

enum Target {
    Stateful(&'static Route),
    Mocked(Box<MockOperation>),
}

struct Entry {
    method: String,
    template: Template,
    target: Target,
}

/// What a request resolved to.
pub(crate) enum Resolved<'r> {
    Stateful {
        route: &'static Route,
        params: Vec<String>,
    },
    Mocked {
        mock: &'r MockOperation,
        params: Vec<String>,
    },
    Unknown,
}

/// The stateful routes and, with a document, a mock for each of its other operations.
pub(crate) struct Router {
    entries: Vec<Entry>,
    operations: Vec<Operation>,
}

impl Router {
    pub(crate) fn new(document: Option<&Document>) -> Router {
        let mut entries: Vec<Entry> = handlers::routes()
            .map(|route| Entry {
                method: route.method.to_string(),
                template: Template::parse(route.path),
                target: Target::Stateful(route),
            })
            .collect();
        let mut operations = Vec::new();
        for (path, method, operation) in document.map(document_operations).unwrap_or_default() {
            let method = method.to_ascii_uppercase();
            let template = Template::parse(path);
            let stateful = entries.iter().any(|entry| {
                matches!(entry.target, Target::Stateful(_))
                    && entry.method == method
                    && entry.template.same_shape(&template)
            });
            operations.push(Operation {
                method: method.clone(),
                path: path.to_string(),
                operation_id: operation["operationId"].as_str().map(str::to_string),
                deprecated: operation["deprecated"] == Value::Bool(true),
                mode: if stateful {
                    Mode::Stateful
                } else {
                    Mode::Mocked
                },
            });
            if !stateful && let Some(document) = document {
                entries.push(Entry {
                    method,
                    template,
                    target: Target::Mocked(Box::new(MockOperation::new(document, path, operation))),
                });
            }
        }
        // Stateful routes the document lacks (or all of them, without a document).
        for route in handlers::routes() {
            let template = Template::parse(route.path);
            let listed = operations.iter().any(|operation| {
                operation.method == route.method
                    && Template::parse(&operation.path).same_shape(&template)
            });
            if !listed {
                operations.push(Operation {
                    method: route.method.to_string(),
                    path: route.path.to_string(),
                    operation_id: None,
                    deprecated: false,
                    mode: Mode::Stateful,
                });
            }
        }
        Router {
            entries,
            operations,
        }
    }

    /// Every operation: the document's in its order with their modes, then any stateful route
    /// it lacks.
    pub(crate) fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The route for `method` and the decoded segments after `/v1`.
    pub(crate) fn resolve(&self, method: &str, segments: &[&str]) -> Resolved<'_> {
        let mut best: Option<(Vec<bool>, &Entry, Vec<String>)> = None;
        for entry in self.entries.iter().filter(|entry| entry.method == method) {
            let Some(params) = entry.template.capture(segments) else {
                continue;
            };
            let literals = entry.template.literals();
            // Strictly better only: on a tie the earlier entry (stateful ones come first) stays.
            if best.as_ref().is_none_or(|(best, _, _)| literals > *best) {
                best = Some((literals, entry, params));
            }
        }
        match best {
            Some((_, entry, params)) => match &entry.target {
                Target::Stateful(route) => Resolved::Stateful { route, params },
                Target::Mocked(mock) => Resolved::Mocked { mock, params },
            },
            None => Resolved::Unknown,
        }
    }
}

/// Every operation of the document as (path template, lower-case method, operation), in the
/// document's order.
fn document_operations(document: &Document) -> Vec<(&str, &str, &Value)> {
    let Some(paths) = document.root().get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut operations = Vec::new();
    for (path, item) in paths {
        let item = document.resolve(item);
        for method in METHODS {
            if let Some(operation) = item.get(method).filter(|o| o.is_object()) {
                operations.push((path.as_str(), method, operation));
            }
        }
    }
    operations
}

/// Every operation `document` has, with the mode the emulator answers it in; the stateful
/// routes the document lacks come last. The same list as [`crate::Emulator::operations`] for an
/// emulator started with this document.
pub fn operations(document: &Document) -> Vec<Operation> {
    Router::new(Some(document)).operations
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn router() -> Router {
        let ok = json!({"responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"kind": {"type": "string", "example": "mock"}}}
        }}}}});
        Router::new(Some(&Document::from(json!({"paths": {
            "/users/{user_id}": {"get": ok.clone()},
            "/users/count": {"get": ok.clone()},
            "/users/gadgets": {"post": ok.clone()},
            "/users/{user_id}/ban": {"post": ok.clone()},
            "/widgets/{widget_id}": {"get": ok.clone()},
            "/widgets/special": {"get": ok},
        }}))))
    }

    fn kind(router: &Router, method: &str, path: &str) -> &'static str {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match router.resolve(method, &segments) {
            Resolved::Stateful { .. } => "stateful",
            Resolved::Mocked { .. } => "mocked",
            Resolved::Unknown => "unknown",
        }
    }

    #[test]
    fn literal_segments_win_and_stateful_routes_win_their_own_templates() {
        let router = router();
        assert_eq!(kind(&router, "GET", "/users/count"), "stateful");
        assert_eq!(kind(&router, "GET", "/users/user_1"), "stateful");
        assert_eq!(kind(&router, "POST", "/users/user_1/ban"), "stateful");
        assert_eq!(kind(&router, "POST", "/users/gadgets"), "mocked");
        assert_eq!(kind(&router, "GET", "/widgets/special"), "mocked");
        assert_eq!(kind(&router, "GET", "/widgets/w_1"), "mocked");
        assert_eq!(kind(&router, "DELETE", "/widgets/w_1"), "unknown");
        assert_eq!(kind(&router, "GET", "/gadgets"), "unknown");
        let without_document = Router::new(None);
        assert_eq!(kind(&without_document, "POST", "/users/gadgets"), "unknown");
        assert_eq!(kind(&without_document, "GET", "/users/count"), "stateful");
    }

    #[test]
    fn operations_list_the_document_then_stateful_routes_it_lacks() {
        let router = router();
        let listed: Vec<(&str, &str, Mode)> = router
            .operations()
            .iter()
            .map(|o| (o.method.as_str(), o.path.as_str(), o.mode))
            .collect();
        assert_eq!(
            &listed[..6],
            [
                ("GET", "/users/{user_id}", Mode::Stateful),
                ("GET", "/users/count", Mode::Stateful),
                ("POST", "/users/gadgets", Mode::Mocked),
                ("POST", "/users/{user_id}/ban", Mode::Stateful),
                ("GET", "/widgets/{widget_id}", Mode::Mocked),
                ("GET", "/widgets/special", Mode::Mocked),
            ]
        );
        // Every stateful route is listed once, in the document or after it.
        let stateful = listed.iter().filter(|o| o.2 == Mode::Stateful).count();
        assert_eq!(stateful, handlers::routes().count());
        assert!(listed[6..].iter().all(|o| o.2 == Mode::Stateful));
        assert_eq!(
            Router::new(None).operations().len(),
            handlers::routes().count()
        );
    }
}
