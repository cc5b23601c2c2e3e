//! [`Ext`], a row's columns that have no typed home: a handful at most
//! (OpenEMR's `pc_catid`, a vaccine's lot), and none in most rows.
//!
//! It is a sorted vector of pairs in a [`ThinVec`]: one word in the row,
//! no allocation while empty, and the length and capacity kept in front
//! of the pairs when there are some. A `Vec` took three words in every
//! row, over a million rows in a seeded clinic; a map's node more still.

use std::borrow::Borrow;

use serde::ser::SerializeMap;
use thin_vec::ThinVec;

use super::Text;

/// Columns by name, in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ext(ThinVec<(Text, Text)>);

impl Ext {
    pub fn new() -> Self {
        Ext(ThinVec::new())
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        Text: Borrow<Q>,
    {
        self.0.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&Text>
    where
        Text: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.0[i].1)
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
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<Text>
    where
        Text: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Text, &Text) -> bool) {
        self.0.retain(|(k, v)| keep(k, v));
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
        let mut out = ThinVec::with_capacity(pairs.len());
        for pair in pairs {
            match out.last_mut() {
                Some((k, v)) if *k == pair.0 => *v = pair.1,
                _ => out.push(pair),
            }
        }
        out.shrink_to_fit();
        Ext(out)
    }
}

impl<'a> IntoIterator for &'a Ext {
    type Item = (&'a Text, &'a Text);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Text, Text)>,
        fn(&'a (Text, Text)) -> (&'a Text, &'a Text),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl IntoIterator for Ext {
    type Item = (Text, Text);
    type IntoIter = thin_vec::IntoIter<(Text, Text)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
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
}
