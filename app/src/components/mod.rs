//! Reusable pieces of the UI.

pub mod browser;
pub mod feedback;
pub mod form;
pub mod loaded;
pub mod passkey;
pub mod shell;
