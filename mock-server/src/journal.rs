//! What the mock saw: the request journal (every request, bounded, newest
//! last) and the audit log (what the real server would write to its own
//! log table, such as OSCAR's `WS_LOGIN_SUCCESS`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, Method, Uri};
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

/// One request as the journal records it. The request line and content
/// type are kept as `http` types, whose clones share the request's bytes:
/// recording a request copies no text.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub method: Method,
    pub uri: Uri,
    pub content_type: Option<HeaderValue>,
    pub status: u16,
    /// The catalogue operation the request addressed, when it matched one.
    pub operation: Option<String>,
    /// Who the request was authenticated as, when it was.
    pub auth: Option<Authenticated>,
    pub duration_us: u64,
}

impl Entry {
    /// The path as received, still percent-encoded.
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The journal's JSON shape (`GET /__admin/requests`).
        #[derive(Serialize)]
        struct Json<'a> {
            seq: u64,
            at: &'a DateTime<Utc>,
            method: &'a str,
            path: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            query: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            content_type: Option<&'a str>,
            status: u16,
            #[serde(skip_serializing_if = "Option::is_none")]
            operation: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            auth: Option<&'a Authenticated>,
            duration_us: u64,
        }
        Json {
            seq: self.seq,
            at: &self.at,
            method: self.method.as_str(),
            path: self.path(),
            query: self.query(),
            content_type: self.content_type.as_ref().and_then(|v| v.to_str().ok()),
            status: self.status,
            operation: self.operation.as_deref(),
            auth: self.auth.as_ref(),
            duration_us: self.duration_us,
        }
        .serialize(s)
    }
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
