//! A table's rows: the data grid.

pub mod grid;
