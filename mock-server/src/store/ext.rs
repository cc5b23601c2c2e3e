//! [`Ext`], a row's columns that have no typed home: a handful at most
//! (OpenEMR's `pc_catid`, a vaccine's lot), and none in most rows.
//!
//! It is an immutable, shared, sorted slice of pairs behind one word: no
//! allocation while empty, and a count and length in front of the pairs
//! when there are some ([`ThinArc`]). Many rows hold the same columns
//! (every seeded OpenEMR encounter is calendar category 1 at place of
//! service 11), and a clone shares them, so the seed keeps one copy of
//! each distinct map ([`super::seed::Interner::extend`]). A change makes a
//! new map, as a changed [`Text`] is a new text: columns change only when
//! a client writes the row.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::ser::SerializeMap;
use triomphe::ThinArc;

use super::Text;

/// Columns by name, in name order.
#[derive(Clone, Default)]
pub struct Ext(Option<ThinArc<(), (Text, Text)>>);

impl Ext {
    pub fn new() -> Self {
        Ext(None)
    }

    /// The map of `pairs`, already in name order with no name twice.
    fn of_sorted(pairs: Vec<(Text, Text)>) -> Self {
        Ext((!pairs.is_empty()).then(|| ThinArc::from_header_and_iter((), pairs.into_iter())))
    }

    fn pairs(&self) -> &[(Text, Text)] {
        self.0.as_ref().map_or(&[], |arc| &arc.slice)
    }

    /// Changes a copy of the pairs and keeps the copy.
    fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<(Text, Text)>) -> R) -> R {
        let mut pairs = self.pairs().to_vec();
        let out = f(&mut pairs);
        *self = Ext::of_sorted(pairs);
        out
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        Text: Borrow<Q>,
    {
        self.pairs().binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&Text>
    where
        Text: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.pairs()[i].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        Text: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets a column, giving back its old value.
    pub fn insert(&mut self, key: Text, value: Text) -> Option<Text> {
        match self.find(key.as_str()) {
            Ok(i) => self.edit(|pairs| Some(std::mem::replace(&mut pairs[i].1, value))),
            Err(i) => self.edit(|pairs| {
                pairs.insert(i, (key, value));
                None
            }),
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<Text>
    where
        Text: Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        self.edit(|pairs| Some(pairs.remove(i).1))
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Text, &Text) -> bool) {
        if !self.pairs().iter().all(|(k, v)| keep(k, v)) {
            // `keep` runs once more per pair on the copy: it is a filter
            // on the pairs, not an action.
            self.edit(|pairs| pairs.retain(|(k, v)| keep(k, v)));
        }
    }

    pub fn clear(&mut self) {
        self.0 = None;
    }

    pub fn len(&self) -> usize {
        self.pairs().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The columns in name order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Text, &Text)> + ExactSizeIterator {
        self.into_iter()
    }
}

impl FromIterator<(Text, Text)> for Ext {
    /// The columns, sorted; of two with one name, the later.
    fn from_iter<I: IntoIterator<Item = (Text, Text)>>(iter: I) -> Self {
        let mut pairs: Vec<(Text, Text)> = iter.into_iter().collect();
        // Stable: equal names keep their order, and the last one stays.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Text, Text)> = Vec::with_capacity(pairs.len());
        for pair in pairs {
            match out.last_mut() {
                Some((k, v)) if *k == pair.0 => *v = pair.1,
                _ => out.push(pair),
            }
        }
        Ext::of_sorted(out)
    }
}

impl<'a> IntoIterator for &'a Ext {
    type Item = (&'a Text, &'a Text);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Text, Text)>,
        fn(&'a (Text, Text)) -> (&'a Text, &'a Text),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.pairs().iter().map(|(k, v)| (k, v))
    }
}

/// Equal when the columns are, shared or not.
impl PartialEq for Ext {
    fn eq(&self, other: &Self) -> bool {
        self.pairs() == other.pairs()
    }
}

impl Eq for Ext {}

/// Hashes as its pairs, so a set of maps can be searched by a slice.
impl Hash for Ext {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.pairs().hash(state);
    }
}

impl Borrow<[(Text, Text)]> for Ext {
    fn borrow(&self) -> &[(Text, Text)] {
        self.pairs()
    }
}

impl fmt::Debug for Ext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Ext").field(&self.pairs()).finish()
    }
}

/// A JSON object (or any serde map) of the columns, as the map it was.
impl serde::Serialize for Ext {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_and_sorted() {
        assert_eq!(std::mem::size_of::<Ext>(), 8);
        let mut ext = Ext::new();
        assert_eq!(ext.insert("pos_code".into(), "11".into()), None);
        assert_eq!(ext.insert("pc_catid".into(), "1".into()), None);
        assert_eq!(
            ext.insert("pos_code".into(), "12".into()),
            Some("11".into())
        );
        assert_eq!(ext.get("pos_code").map(Text::as_str), Some("12"));
        let names: Vec<&str> = ext.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["pc_catid", "pos_code"]);
        assert_eq!(
            serde_json::to_string(&ext).unwrap(),
            r#"{"pc_catid":"1","pos_code":"12"}"#
        );
        assert_eq!(ext.remove("pc_catid"), Some("1".into()));
        assert!(!ext.contains_key("pc_catid") && ext.len() == 1);
    }

    #[test]
    fn collected_columns_are_sorted_and_the_last_of_a_name_wins() {
        let ext: Ext = [("b", "1"), ("a", "2"), ("b", "3")]
            .into_iter()
            .map(|(k, v)| (Text::from(k), Text::from(v)))
            .collect();
        let pairs: Vec<(&str, &str)> = ext.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("a", "2"), ("b", "3")]);
    }

    #[test]
    fn a_change_to_a_shared_map_leaves_its_other_holders_as_they_were() {
        let mut ext = Ext::new();
        ext.insert("pc_catid".into(), "1".into());
        ext.insert("pos_code".into(), "11".into());
        let mut copy = ext.clone();
        assert_eq!(copy, ext);
        copy.insert("pos_code".into(), "12".into());
        copy.retain(|k, _| k != "pc_catid");
        assert_eq!(ext.get("pos_code").map(Text::as_str), Some("11"));
        assert_eq!(ext.len(), 2);
        assert_eq!(copy.get("pos_code").map(Text::as_str), Some("12"));
        assert_eq!(copy.len(), 1);
        copy.clear();
        assert!(copy.is_empty() && !ext.is_empty());
        assert_eq!(ext.remove("nope"), None);
    }
}
