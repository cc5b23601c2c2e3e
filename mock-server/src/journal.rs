//! What the mock saw: the request journal (every request, bounded, newest
//! last) and the audit log (what the real server would write to its own
//! log table, such as OSCAR's `WS_LOGIN_SUCCESS`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Serialize;

/// Set on a response by the handler that served a catalogue operation, so
/// the journal can say which documented operation a request exercised.
#[derive(Debug, Clone)]
pub struct OperationId(pub String);

/// Set on a response by an authentication layer: who the request was
/// authenticated as, so the journal can show it.
#[derive(Debug, Clone, Serialize)]
pub struct Authenticated {
    pub provider_no: String,
    /// `session`, `oauth1`, ...
    pub via: &'static str,
}

/// One request as the journal records it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub status: u16,
    /// The catalogue operation the request addressed, when it matched one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Who the request was authenticated as, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Authenticated>,
    pub duration_us: u64,
}

/// A bounded ring of entries: the oldest fall off first.
#[derive(Debug)]
pub struct Ring<T> {
    capacity: usize,
    items: Mutex<VecDeque<T>>,
}

impl<T: Clone> Ring<T> {
    pub fn new(capacity: usize) -> Self {
        Ring {
            capacity: capacity.max(1),
            items: Mutex::new(VecDeque::new()),
        }
    }

    pub fn push(&self, item: T) {
        let mut items = self.items.lock();
        if items.len() == self.capacity {
            items.pop_front();
        }
        items.push_back(item);
    }

    /// The newest `limit` items, oldest first.
    pub fn snapshot(&self, limit: Option<usize>) -> Vec<T> {
        let items = self.items.lock();
        let skip = limit.map_or(0, |l| items.len().saturating_sub(l));
        items.iter().skip(skip).cloned().collect()
    }

    pub fn clear(&self) {
        self.items.lock().clear();
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// The request journal.
#[derive(Debug)]
pub struct Journal {
    seq: AtomicU64,
    ring: Ring<Entry>,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Journal {
            seq: AtomicU64::new(0),
            ring: Ring::new(capacity),
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn record(&self, entry: Entry) {
        self.ring.push(entry);
    }

    pub fn entries(&self, limit: Option<usize>) -> Vec<Entry> {
        self.ring.snapshot(limit)
    }

    pub fn clear(&self) {
        self.ring.clear();
    }

    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }
}

/// One row of the server's own audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The real system's action name (`WS_LOGIN_SUCCESS`, `REST WS: NOT AUTHORIZED`).
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_newest() {
        let r = Ring::new(3);
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!(r.snapshot(None), vec![2, 3, 4]);
        assert_eq!(r.snapshot(Some(2)), vec![3, 4]);
    }
}
