//! Helpers shared by the mock's integration tests.

pub mod race;
pub mod soap;
