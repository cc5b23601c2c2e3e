//! Live targets: target files and the credentials document they produce,
//! pre-provisioned and stored tokens, interactive authorization with its
//! loopback receiver, and the pacing of requests.

pub mod interactive;
pub mod loopback;
pub mod net;
pub mod store;
pub mod target_file;
pub mod tokens;
