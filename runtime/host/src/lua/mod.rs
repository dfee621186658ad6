//! Lua glue a host may reuse for globals of its own: JSON conversion and error objects.

pub mod convert;
pub mod error;
pub mod files;

pub use convert::{
    FromJsonError, for_return, json_bytes_to_lua, json_kind, json_to_lua, keep_integers_exact,
    lua_to_json,
};
pub use error::{error_text, error_value, is_error_value, mcp_error_value};
pub use files::call_args_to_json;
