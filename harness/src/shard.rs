//! `--shard I/N`: splits a suite across CI machines deterministically.
//! Every machine loads the same scenarios in the same (id) order and
//! takes every N-th one, starting at its own index, so the shards are
//! disjoint, cover the suite, and differ in size by at most one.

use std::fmt;
use std::str::FromStr;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: expected I/N with 1 <= I <= N (e.g. 2/4)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The items of this shard, in order; `id` gives the sort key.
    pub fn select<T>(&self, mut items: Vec<T>, id: impl Fn(&T) -> String) -> Vec<T> {
        items.sort_by_key(|x| id(x));
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index - 1)
            .map(|(_, x)| x)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_disjoint_and_cover_everything() {
        let ids: Vec<String> = (0..11).map(|i| format!("s{i:02}")).collect();
        let mut seen = Vec::new();
        for i in 1..=3 {
            let shard: Shard = format!("{i}/3").parse().unwrap();
            // Input order does not matter: every machine agrees.
            let mut shuffled = ids.clone();
            shuffled.reverse();
            let mine = shard.select(shuffled, |s| s.clone());
            assert!(mine.len() == 3 || mine.len() == 4, "{mine:?}");
            seen.extend(mine);
        }
        seen.sort();
        assert_eq!(seen, ids);
    }

    #[test]
    fn bad_shards_are_refused() {
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!("2/5".parse::<Shard>().unwrap().to_string(), "2/5");
    }
}
