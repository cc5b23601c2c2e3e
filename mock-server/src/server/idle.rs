//! The header deadline (Tomcat's `connectionTimeout`): a connection that
//! does not deliver a complete request head within the deadline of
//! starting to wait for one (when it is accepted, and after each
//! response) is closed. That cuts off a slowloris client and an idle
//! keep-alive connection alike.
//!
//! hyper can enforce this itself, but it arms a timer for every request,
//! which cost about a tenth of a small request's serving time under load.
//! Here a connection only stores the time it started waiting (an atomic
//! store per request), and one sweeper task per server looks at every
//! connection a few times per deadline and closes the late ones.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::Notify;

/// Marks a connection that is serving a request, not waiting for one.
const BUSY: u64 = 0;

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
}

/// The open connections of one server and their deadline.
#[derive(Debug)]
pub struct Watcher {
    deadline: Duration,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Watch>>>,
}

/// One connection: since when it has waited for a request head.
#[derive(Debug)]
pub struct Watch {
    /// The watcher's epoch.
    epoch: Instant,
    /// Milliseconds since the epoch, plus one; [`BUSY`] while a request is
    /// being served.
    waiting_since: AtomicU64,
    /// Fired by the sweeper when the deadline has passed.
    expired: Notify,
}

impl Watch {
    /// A request head arrived: the deadline no longer runs.
    pub fn busy(&self) {
        self.waiting_since.store(BUSY, Ordering::Relaxed);
    }

    /// The response has been written: the wait for the next head starts.
    pub fn waiting(&self) {
        self.waiting_since
            .store(millis_since(self.epoch) + 1, Ordering::Relaxed);
    }

    /// Resolves once the sweeper finds the connection late.
    pub async fn expired(&self) {
        self.expired.notified().await;
    }
}

/// A connection's registration; dropping it unregisters the connection.
#[derive(Debug)]
pub struct Registration {
    watcher: Arc<Watcher>,
    id: u64,
    pub watch: Arc<Watch>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.watcher.open.lock().remove(&self.id);
    }
}

impl Watcher {
    pub fn new(deadline: Duration) -> Arc<Watcher> {
        Arc::new(Watcher {
            deadline,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        })
    }

    fn now_ms(&self) -> u64 {
        millis_since(self.epoch)
    }

    /// Watches a connection just accepted: it starts waiting for its first
    /// request head now.
    pub fn register(self: &Arc<Self>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let watch = Arc::new(Watch {
            epoch: self.epoch,
            waiting_since: AtomicU64::new(self.now_ms() + 1),
            expired: Notify::new(),
        });
        self.open.lock().insert(id, watch.clone());
        Registration {
            watcher: self.clone(),
            id,
            watch,
        }
    }

    /// How often the sweeper looks: a quarter of the deadline (so a late
    /// connection is closed within 1.25 deadlines), at least every 10 ms.
    pub fn period(&self) -> Duration {
        (self.deadline / 4).max(Duration::from_millis(10))
    }

    /// Closes the connections that have waited longer than the deadline.
    pub fn sweep(&self) {
        let now = self.now_ms();
        let limit = u64::try_from(self.deadline.as_millis()).unwrap_or(u64::MAX);
        for watch in self.open.lock().values() {
            let since = watch.waiting_since.load(Ordering::Relaxed);
            if since != BUSY && now.saturating_sub(since - 1) > limit {
                // `notify_one` keeps the permit if the connection is not
                // waiting on it right now, so the expiry is not lost.
                watch.expired.notify_one();
            }
        }
    }

    /// Sweeps every [`Watcher::period`] until the watcher is no longer
    /// shared with anything else (the server has stopped).
    pub async fn run(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.period());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if Arc::strong_count(&self) == 1 {
                return;
            }
            self.sweep();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_connections_waiting_past_the_deadline_expire() {
        let watcher = Watcher::new(Duration::from_millis(40));
        let late = watcher.register();
        let serving = watcher.register();
        serving.watch.busy();
        tokio::time::sleep(Duration::from_millis(60)).await;
        let fresh = watcher.register();
        watcher.sweep();
        let fired = |r: &Registration| {
            let w = r.watch.clone();
            async move {
                tokio::time::timeout(Duration::from_millis(20), w.expired())
                    .await
                    .is_ok()
            }
        };
        assert!(fired(&late).await);
        assert!(!fired(&serving).await);
        assert!(!fired(&fresh).await);
        // A connection that finished a request starts a new wait.
        serving.watch.waiting();
        watcher.sweep();
        assert!(!fired(&serving).await);
    }

    #[test]
    fn a_dropped_registration_leaves_the_watcher() {
        let watcher = Watcher::new(Duration::from_secs(1));
        let r = watcher.register();
        assert_eq!(watcher.open.lock().len(), 1);
        drop(r);
        assert!(watcher.open.lock().is_empty());
    }
}
