//! Helpers shared by the mock's integration tests.

// Each test crate uses some of them.
#![allow(dead_code)]

pub mod openemr;
pub mod oscar;
pub mod race;
pub mod soap;
