//! A table's rows: the data grid, its tree view, row drawer, filter builder and column arrangement.

mod clip;
mod columns;
mod drawer;
mod editor;
mod filter;
pub mod grid;
mod new_row;
mod tree;
