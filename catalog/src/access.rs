//! Whether an operation only reads or may change data: what `--read-only`
//! runs are allowed to send.
//!
//! HTTP operations are classified by their method (GET and HEAD read,
//! everything else may write). SOAP operations are all POSTs, so their
//! class is data: an `access` column in the operation's own row if its
//! table has one, else `data/oscar/soap-access.tsv`. An operation that is
//! in neither counts as a write, so a new operation is never sent by a
//! read-only run until someone has classified it.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::table::{Api, Operation};

/// What an operation does to the server's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Returns data and changes none (HTTP GET/HEAD, SOAP getters, login).
    Read,
    /// Creates, changes, deletes or sends data, or is not classified.
    Write,
}

impl Access {
    /// The class of an HTTP method: only GET and HEAD are reads.
    pub fn of_method(method: &str) -> Access {
        if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            Access::Read
        } else {
            Access::Write
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }

    fn parse(s: &str) -> Option<Access> {
        match s.trim() {
            "read" => Some(Access::Read),
            "write" => Some(Access::Write),
            _ => None,
        }
    }
}

const SOAP_ACCESS: &str = include_str!("../data/oscar/soap-access.tsv");

/// `(service, operation)` → class, from `soap-access.tsv`.
fn soap_access() -> &'static HashMap<(String, String), Access> {
    static TABLE: OnceLock<HashMap<(String, String), Access>> = OnceLock::new();
    TABLE.get_or_init(|| parse_access_table(SOAP_ACCESS))
}

/// Rows `service<TAB>operation<TAB>access<TAB>why` after a header; rows
/// whose access is neither `read` nor `write` are left out (and so count
/// as writes), which the unit tests below rule out for the shipped file.
fn parse_access_table(text: &str) -> HashMap<(String, String), Access> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cells = line.split('\t');
            let service = cells.next()?.trim();
            let operation = cells.next()?.trim();
            let access = Access::parse(cells.next()?)?;
            Some(((service.to_owned(), operation.to_owned()), access))
        })
        .collect()
}

impl Operation {
    /// Whether the operation reads or may write; see the module docs.
    pub fn access(&self) -> Access {
        if let Some(a) = self.columns.get("access").and_then(|a| Access::parse(a)) {
            return a;
        }
        match self.api {
            Api::Soap => soap_access()
                .get(&(self.group.clone(), self.name.clone()))
                .copied()
                .unwrap_or(Access::Write),
            _ => Access::of_method(&self.method),
        }
    }

    /// Whether a `--read-only` run may send it.
    pub fn is_read(&self) -> bool {
        self.access() == Access::Read
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, ProfileId};

    #[test]
    fn http_operations_read_only_with_get_and_head() {
        let c = Catalog::of(ProfileId::Oscar);
        let get = c.get("GET /ws/rs/status/checkIfAuthed").unwrap();
        assert!(get.is_read());
        let writes = c
            .operations()
            .iter()
            .filter(|o| o.api != Api::Soap && !o.is_read())
            .count();
        assert!(writes > 0);
        for op in c.operations().iter().filter(|o| o.api != Api::Soap) {
            assert_eq!(
                op.is_read(),
                op.method == "GET" || op.method == "HEAD",
                "{}",
                op.id
            );
        }
        assert_eq!(Access::of_method("post"), Access::Write);
        assert_eq!(Access::of_method("head"), Access::Read);
        assert_eq!(Access::of_method("OPTIONS"), Access::Write);
    }

    #[test]
    fn every_soap_operation_of_every_profile_is_classified() {
        for p in ProfileId::ALL {
            for op in Catalog::of(p)
                .operations()
                .iter()
                .filter(|o| o.api == Api::Soap)
            {
                assert!(
                    soap_access().contains_key(&(op.group.clone(), op.name.clone())),
                    "{p}: {} has no row in soap-access.tsv",
                    op.id
                );
            }
        }
        let c = Catalog::of(ProfileId::Juno);
        assert!(c
            .soap("DemographicService", "getDemographic")
            .unwrap()
            .is_read());
        assert!(!c
            .soap("DemographicService", "addDemographic")
            .unwrap()
            .is_read());
        assert!(!c
            .soap("ScheduleService", "cancelAppointment")
            .unwrap()
            .is_read());
        assert!(c.soap("LoginService", "login").unwrap().is_read());
    }

    #[test]
    fn unclassified_soap_operations_count_as_writes() {
        let table =
            parse_access_table("service\toperation\taccess\twhy\nA\tb\tread\tx\nA\tc\tmaybe\tx\n");
        assert_eq!(table.get(&("A".into(), "b".into())), Some(&Access::Read));
        assert_eq!(table.get(&("A".into(), "c".into())), None);
        let mut op = Catalog::of(ProfileId::Oscar)
            .soap("DemographicService", "getDemographic")
            .unwrap()
            .clone();
        op.name = "getSomethingNew".into();
        assert_eq!(op.access(), Access::Write);
        op.columns.insert("access".into(), "read".into());
        assert_eq!(op.access(), Access::Read, "a row's own column wins");
    }
}
