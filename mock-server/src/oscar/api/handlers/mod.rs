//! Hand-written behaviours, named by the behaviour table's `handler` rows:
//! the operations whose logic is more than reading or writing a row
//! (booking, day schedules, quick search, tickler workflows, documents,
//! consultation requests, prescribing...).

mod status;

use super::{Call, Outcome};
use crate::error::Failure;

type Handler = fn(&mut Call<'_>) -> Outcome;

/// Every handler, by the name the table uses.
const HANDLERS: &[(&str, Handler)] = &[
    ("checkIfAuthed", status::check_if_authed),
    ("oauthInfo", status::oauth_info),
];

#[cfg(test)]
pub fn exists(name: &str) -> bool {
    HANDLERS.iter().any(|(n, _)| *n == name)
}

pub fn run(call: &mut Call<'_>) -> Outcome {
    let name = call.behaviour.param("name").unwrap_or_default();
    match HANDLERS.iter().find(|(n, _)| *n == name) {
        Some((_, h)) => h(call),
        None => Outcome::Error(Failure::Internal(format!("no handler `{name}`"))),
    }
}
