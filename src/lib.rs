//! The `emr-conformance` command: runs the scenario suite against the
//! embedded mock or a live server, serves the mock, lists scenarios.
//!
//! The library half exists so the integration tests drive exactly what
//! the command does.

pub mod bench;
pub mod cli;
pub mod live;
pub mod provision;

/// Exit codes of the CLI contract.
pub mod exit {
    /// Every selected scenario passed.
    pub const PASSED: u8 = 0;
    /// At least one scenario failed.
    pub const FAILED: u8 = 1;
    /// A scenario file or an argument is invalid.
    pub const INVALID: u8 = 2;
}
