//! Walking every page of a list function, as its manifest declares: `each.<function>` in Lua,
//! and [`Host::pages`](crate::Host::pages) for programs (the CLI's `--all` and export).
//!
//! One page is held at a time. The walk asks for pages of the declared size (or the caller's
//! `limit`) from the caller's `offset` on, and stops at the first page that is empty or short,
//! or once the declared total is reached, so a counted list of `n` items takes `ceil(n / size)`
//! requests and a bare one `floor(n / size) + 1`.

use std::collections::VecDeque;
use std::sync::Arc;

use kosmo_runtime::{Error, FunctionMeta, Literal, Pagination, Total};
use serde_json::{Map, Value};

use crate::gate::{Failure, Gate};

/// Where a walk is.
pub(crate) struct Pager {
    gate: Arc<Gate>,
    function: &'static FunctionMeta,
    pagination: &'static Pagination,
    args: Map<String, Value>,
    offset: u64,
    page_size: u64,
    total: Option<u64>,
    done: bool,
    pages: u64,
}

impl Pager {
    /// A walk of `function` with `args` (its filters; `limit` sets the page size and `offset`
    /// where to start). Refuses functions that do not page and arguments that are not a table.
    pub(crate) fn new(
        gate: Arc<Gate>,
        function: &'static FunctionMeta,
        args: Value,
    ) -> Result<Pager, Error> {
        let Some(pagination) = function.pagination else {
            let paged: Vec<&str> = gate
                .integration
                .meta
                .functions
                .iter()
                .filter(|f| f.pagination.is_some())
                .map(|f| f.name)
                .collect();
            return Err(Error::invalid(
                function.name,
                "function",
                format!(
                    "does not page, so it cannot be walked; functions that page: {}.",
                    paged.join(", ")
                ),
            ));
        };
        let mut args = match args {
            Value::Object(map) => map,
            // `{}` from Lua is an empty array as much as an empty table.
            Value::Null => Map::new(),
            Value::Array(items) if items.is_empty() => Map::new(),
            _ => {
                return Err(Error::invalid(
                    function.name,
                    "arguments",
                    "must be a table of named arguments.",
                ));
            }
        };
        let number = |args: &Map<String, Value>, name: &str| -> Result<Option<u64>, Error> {
            match args.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => value.as_u64().map(Some).ok_or_else(|| {
                    Error::invalid(function.name, name, "must be a whole number of at least 0.")
                }),
            }
        };
        let page_size = number(&args, pagination.limit_param)?.unwrap_or(pagination.page_size);
        let offset = number(&args, pagination.offset_param)?.unwrap_or(0);
        if page_size == 0 {
            return Err(Error::invalid(
                function.name,
                pagination.limit_param,
                "must be at least 1 to walk pages.",
            ));
        }
        for (name, value) in pagination.with {
            args.insert((*name).to_string(), literal_json(*value));
        }
        Ok(Pager {
            gate,
            function,
            pagination,
            args,
            offset,
            page_size,
            total: None,
            done: false,
            pages: 0,
        })
    }

    /// The next page's items, or `None` after the last. A failed page can be asked for again.
    pub(crate) async fn next_page(&mut self) -> Result<Option<Vec<Value>>, Failure> {
        if self.done {
            return Ok(None);
        }
        let mut args = self.args.clone();
        args.insert(
            self.pagination.limit_param.to_string(),
            self.page_size.into(),
        );
        args.insert(self.pagination.offset_param.to_string(), self.offset.into());
        let page = self
            .gate
            .call(self.function, Value::Object(args), |output| {
                output.into_value().map_err(Failure::Call)
            })
            .await?;
        self.pages += 1;
        if let Total::InPage(pointer) = self.pagination.total
            && let Some(total) = page.pointer(pointer).and_then(Value::as_u64)
        {
            self.total = Some(total);
        }
        let items = self.items(page)?;
        let count = items.len() as u64;
        self.offset += count;
        let reached_total = self.total.is_some_and(|total| self.offset >= total);
        if count < self.page_size || reached_total {
            self.done = true;
        }
        if count == 0 {
            return Ok(None);
        }
        Ok(Some(items))
    }

    fn items(&self, page: Value) -> Result<Vec<Value>, Failure> {
        let pointer = self.pagination.items;
        let found = if pointer.is_empty() {
            page
        } else {
            let mut page = page;
            match page.pointer_mut(pointer) {
                Some(items) => items.take(),
                None => Value::Null,
            }
        };
        match found {
            Value::Array(items) => Ok(items),
            other => Err(Failure::Call(Error::InvalidResponse {
                provider: self.gate.integration.meta.label.to_string(),
                status: 200,
                content_type: "application/json".into(),
                reason: format!(
                    "a page of {} has no array at `{}` (found {})",
                    self.function.name,
                    if pointer.is_empty() { "/" } else { pointer },
                    kind_of(&other)
                ),
            })),
        }
    }

    /// The number of items the walk will visit in all, when the list says: from the first page
    /// when pages carry it (fetched now if no page was), else from the declared counting
    /// function called with the same filters. `None` when nothing tells.
    pub(crate) async fn total(&mut self) -> Result<Option<u64>, Failure> {
        match self.pagination.total {
            Total::Unknown => Ok(None),
            Total::InPage(_) => Ok(self.total),
            Total::Function { function, pointer } => {
                if self.total.is_some() {
                    return Ok(self.total);
                }
                let Some(counter) = self.gate.integration.function(function) else {
                    return Ok(None);
                };
                let filters: Map<String, Value> = self
                    .args
                    .iter()
                    .filter(|(name, _)| counter.param(name).is_some())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let answer = self
                    .gate
                    .call(counter, Value::Object(filters), |output| {
                        output.into_value().map_err(Failure::Call)
                    })
                    .await?;
                let total = answer.pointer(pointer).and_then(Value::as_u64);
                // Items before the starting offset are not visited.
                self.total = total.map(|t| t.saturating_sub(self.offset.min(t)));
                Ok(self.total)
            }
        }
    }

    /// Pages fetched so far.
    pub(crate) fn pages(&self) -> u64 {
        self.pages
    }
}

fn literal_json(literal: Literal) -> Value {
    match literal {
        Literal::String(s) => Value::String(s.to_string()),
        Literal::Integer(i) => i.into(),
        Literal::Number(n) => serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
        Literal::Boolean(b) => b.into(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Items of a walk one at a time, a page fetched whenever the last one is used up.
pub(crate) struct ItemCursor {
    pub(crate) pager: Pager,
    buffer: VecDeque<Value>,
}

impl ItemCursor {
    pub(crate) fn new(pager: Pager) -> Self {
        ItemCursor {
            pager,
            buffer: VecDeque::new(),
        }
    }

    /// The next item, or `None` after the last.
    pub(crate) async fn next_item(&mut self) -> Result<Option<Value>, Failure> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Ok(Some(item));
            }
            match self.pager.next_page().await? {
                Some(items) => self.buffer.extend(items),
                None => return Ok(None),
            }
        }
    }
}
