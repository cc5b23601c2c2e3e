//! Helpers shared by the mock's integration tests.

pub mod openemr;
pub mod race;
pub mod soap;
