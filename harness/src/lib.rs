//! The conformance harness: loads YAML scenarios, drives them against a
//! target (the bundled mock or a live server), checks and snapshots the
//! responses, and reports what passed, what failed and why.
//!
//! Data flows one way: [`scenario`] files are parsed into a model, the
//! [`runner`] executes them against a [`target`] through the
//! [`transport`] (with [`auth`] drivers signing requests) and produces
//! [`outcome`]s; [`suite`] runs many, [`coverage`] and [`report`] render
//! the results for people and CI.

pub mod auth;
pub mod check;
pub mod coverage;
pub mod diff;
pub mod expected;
pub mod fuzz;
pub mod headers;
pub mod json;
pub mod live;
pub mod outcome;
pub mod policy;
pub mod redact;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod schema;
pub mod shard;
pub mod snapshot;
pub mod soap;
#[cfg(test)]
mod strategies;
pub mod suite;
pub mod target;
pub mod transport;
