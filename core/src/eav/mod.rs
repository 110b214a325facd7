//! The hybrid EAV model: logical tables, the attribute library, typed rows, extended properties,
//! hierarchy, optimistic concurrency, queries, batches — with their outbox events and audit entries.
//!
//! Pure building blocks (types, rules, masking, names, filter/sort grammar, cursors) have no database;
//! the services (`schema`, `rows`, `query`, `batch`) run inside a transaction; `service::Eav` is the facade
//! the adapters (REST handlers, server functions) call.

pub mod batch;
pub mod check;
pub mod constraints;
pub mod cursor;
pub mod export;
pub mod filter;
pub mod foreign_keys;
pub mod input;
pub mod masking;
pub mod names;
pub mod query;
pub mod rows;
pub mod rules;
pub mod schema;
pub mod service;
pub mod sort;
pub mod types;
pub mod unique;
pub mod values;

pub use masking::{parse_masking, MaskingRule};
pub use names::{parse_json_path, ColumnName, TableName};
pub use rules::{parse_rule, ValidationRule};
pub use service::Eav;
pub use types::{compare, format_timestamp, parse_timestamp, parse_value, DataType, Value};
