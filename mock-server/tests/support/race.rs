//! Races: many clients doing the same thing at the same instant, and the
//! invariant that must hold whatever the interleaving.
//!
//! Adding the same check for another route is a few lines:
//!
//! ```ignore
//! let answers = race(16, |_| client.post(&url).json(&same_slot)).await;
//! exactly_one(&answers, |a| a.status == 200, |a| a.status == 409).unwrap();
//! ```

use std::fmt::Debug;
use std::sync::{Arc, Barrier};

/// What one racing request got.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Which request (0..n) it was.
    pub index: usize,
    pub status: u16,
    pub body: String,
}

/// Sends `n` requests at once: each is built by `request(i)`, they wait
/// for one another at a barrier, then all are sent together. Returns every
/// answer, in request order.
pub async fn race(n: usize, request: impl Fn(usize) -> reqwest::RequestBuilder) -> Vec<Answer> {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let req = request(i);
        let barrier = barrier.clone();
        tasks.spawn(async move {
            barrier.wait().await;
            let r = req.send().await.expect("the mock answers");
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            Answer {
                index: i,
                status,
                body,
            }
        });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(a) = tasks.join_next().await {
        out.push(a.expect("a racing task panicked"));
    }
    out.sort_by_key(|a| a.index);
    out
}

/// Runs `f(i)` on `n` threads released together by a barrier (for
/// store-level races); the results in thread order.
pub fn race_threads<T: Send + 'static>(
    n: usize,
    f: impl Fn(usize, &Barrier) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let f = f.clone();
            std::thread::spawn(move || {
                barrier.wait();
                f(i, &barrier)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a racing thread panicked"))
        .collect()
}

/// The invariant of a race only one may win: exactly one result is `won`
/// and every other is `refused`. `Ok` with the winner's position, `Err`
/// describing every result otherwise.
pub fn exactly_one<T: Debug>(
    results: &[T],
    won: impl Fn(&T) -> bool,
    refused: impl Fn(&T) -> bool,
) -> Result<usize, String> {
    let winners: Vec<usize> = (0..results.len()).filter(|i| won(&results[*i])).collect();
    let others: Vec<&T> = results
        .iter()
        .enumerate()
        .filter(|(i, r)| !winners.contains(i) && !refused(r))
        .map(|(_, r)| r)
        .collect();
    match (winners.as_slice(), others.is_empty()) {
        ([one], true) => Ok(*one),
        _ => Err(format!(
            "{} of {} won (exactly one must); {} got neither the win nor the expected refusal: {others:#?}",
            winners.len(),
            results.len(),
            others.len()
        )),
    }
}
