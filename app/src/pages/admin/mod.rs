//! Administration pages: users, roles and permissions, the audit log.

pub mod audit;
pub mod roles;
pub mod users;
