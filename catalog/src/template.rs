//! Path templates as the real servers declare them: JAX-RS `{name}` (OSCAR,
//! also inside a segment as in `drugs{status}`) and OpenEMR's `:name`.

use std::fmt;

/// One `/`-separated piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `prefix{name}suffix`; prefix and suffix are usually empty.
    Param {
        prefix: String,
        name: String,
        suffix: String,
    },
}

/// A parsed path template.
#[derive(Clone, PartialEq, Eq)]
pub struct PathTemplate {
    source: String,
    segments: Vec<Segment>,
}

/// The parameters a concrete path bound, in template order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathMatch {
    pub params: Vec<(String, String)>,
}

impl PathMatch {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl PathTemplate {
    /// Parses `/ws/rs/demographics/{dataId}` or `/api/patient/:puuid`.
    pub fn parse(source: &str) -> Result<Self, String> {
        let trimmed = source.trim();
        if !trimmed.starts_with('/') {
            return Err(format!("path template `{source}` must start with `/`"));
        }
        let segments = split(trimmed)
            .map(parse_segment)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("path template `{source}`: {e}"))?;
        Ok(PathTemplate {
            source: trimmed.to_owned(),
            segments,
        })
    }

    /// The number of segments a path needs to match.
    pub fn depth(&self) -> usize {
        self.segments.len()
    }

    /// The literal the `i`th segment must equal, when it is one.
    pub fn literal_at(&self, i: usize) -> Option<&str> {
        match self.segments.get(i) {
            Some(Segment::Literal(l)) => Some(l),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Names of the template's parameters, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param { name, .. } => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// How specific the template is, as JAX-RS ranks candidates: more
    /// literal characters first, then fewer parameters.
    pub fn specificity(&self) -> (usize, std::cmp::Reverse<usize>) {
        let mut literal = 0;
        let mut params = 0;
        for s in &self.segments {
            match s {
                Segment::Literal(l) => literal += l.len() + 1,
                Segment::Param { prefix, suffix, .. } => {
                    literal += prefix.len() + suffix.len() + 1;
                    params += 1;
                }
            }
        }
        (literal, std::cmp::Reverse(params))
    }

    /// Matches a concrete path (no query string). Parameters are returned
    /// as they appear on the wire, still percent-encoded.
    pub fn matches(&self, path: &str) -> Option<PathMatch> {
        let parts: Vec<&str> = split(path).collect();
        self.matches_segments(&parts)
    }

    /// Whether [`matches_segments`](Self::matches_segments) would match,
    /// without taking the parameters out: a lookup weighs every candidate
    /// this way and takes the parameters of the one it picks.
    pub fn fits(&self, parts: &[&str]) -> bool {
        parts.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(parts)
                .all(|(seg, part)| match seg {
                    Segment::Literal(l) => l == part,
                    Segment::Param { prefix, suffix, .. } => {
                        part.len() > prefix.len() + suffix.len()
                            && part.starts_with(prefix.as_str())
                            && part.ends_with(suffix.as_str())
                    }
                })
    }

    /// [`matches`](Self::matches) on a path already split into segments:
    /// a catalogue lookup splits the request path once and tries every
    /// candidate template on the pieces, so a miss costs a few string
    /// comparisons and no allocation.
    pub fn matches_segments(&self, parts: &[&str]) -> Option<PathMatch> {
        // Literals first: most candidates fail there, before anything is
        // allocated for the parameters.
        if !self.fits(parts) {
            return None;
        }
        let mut out = PathMatch::default();
        let mut parts = parts.iter().copied();
        for seg in &self.segments {
            let part = parts.next()?;
            match seg {
                Segment::Literal(l) => {
                    if l != part {
                        return None;
                    }
                }
                Segment::Param {
                    prefix,
                    name,
                    suffix,
                } => {
                    let value = part.strip_prefix(prefix.as_str())?;
                    let value = value.strip_suffix(suffix.as_str())?;
                    if value.is_empty() {
                        return None;
                    }
                    out.params.push((name.clone(), value.to_owned()));
                }
            }
        }
        if parts.next().is_some() {
            return None;
        }
        Some(out)
    }

    /// Fills the template's parameters; used to build example requests.
    pub fn render(&self, value_of: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            out.push('/');
            match seg {
                Segment::Literal(l) => out.push_str(l),
                Segment::Param {
                    prefix,
                    name,
                    suffix,
                } => {
                    out.push_str(prefix);
                    out.push_str(&value_of(name));
                    out.push_str(suffix);
                }
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

/// A path's segments as [`PathTemplate::matches_segments`] takes them.
pub fn split_path(path: &str) -> smallvec::SmallVec<[&str; 8]> {
    split(path).collect()
}

/// Splits a path into segments, ignoring the leading slash and one
/// trailing slash (`/a/b/` is `/a/b`, as the servers treat it).
fn split(path: &str) -> impl Iterator<Item = &str> {
    let p = path.strip_prefix('/').unwrap_or(path);
    let p = p.strip_suffix('/').unwrap_or(p);
    p.split('/').filter(move |_| !p.is_empty())
}

fn parse_segment(seg: &str) -> Result<Segment, String> {
    if let Some(name) = seg.strip_prefix(':') {
        if name.is_empty() {
            return Err("empty `:` parameter".into());
        }
        return Ok(Segment::Param {
            prefix: String::new(),
            name: name.to_owned(),
            suffix: String::new(),
        });
    }
    match (seg.find('{'), seg.rfind('}')) {
        (None, None) => Ok(Segment::Literal(seg.to_owned())),
        (Some(open), Some(close)) if open < close => {
            let inner = &seg[open + 1..close];
            // JAX-RS allows `{name: regex}`; the name is all we bind.
            let name = inner.split(':').next().unwrap_or("").trim();
            if name.is_empty() || inner.contains('{') {
                return Err(format!("bad parameter in segment `{seg}`"));
            }
            Ok(Segment::Param {
                prefix: seg[..open].to_owned(),
                name: name.to_owned(),
                suffix: seg[close + 1..].to_owned(),
            })
        }
        _ => Err(format!("unbalanced braces in segment `{seg}`")),
    }
}

impl fmt::Debug for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathTemplate({})", self.source)
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaxrs_and_openemr_parameters_bind() {
        let t = PathTemplate::parse("/ws/rs/demographics/{dataId}").unwrap();
        let m = t.matches("/ws/rs/demographics/42").unwrap();
        assert_eq!(m.get("dataId"), Some("42"));
        assert!(t.matches("/ws/rs/demographics").is_none());
        assert!(t.matches("/ws/rs/demographics/42/x").is_none());

        let t = PathTemplate::parse("/api/patient/:puuid/encounter").unwrap();
        let m = t.matches("/api/patient/9a-1/encounter").unwrap();
        assert_eq!(m.get("puuid"), Some("9a-1"));
    }

    #[test]
    fn parameters_inside_a_segment_bind_the_rest_of_it() {
        let t = PathTemplate::parse("/ws/rs/rx/drugs{status}").unwrap();
        assert_eq!(
            t.matches("/ws/rs/rx/drugsCurrent").unwrap().get("status"),
            Some("Current")
        );
        assert!(t.matches("/ws/rs/rx/drugs").is_none());
    }

    #[test]
    fn literal_templates_outrank_parameters() {
        let lit = PathTemplate::parse("/ws/rs/demographics/quickSearch").unwrap();
        let param = PathTemplate::parse("/ws/rs/demographics/{dataId}").unwrap();
        assert!(lit.specificity() > param.specificity());
    }

    #[test]
    fn bad_templates_are_errors() {
        assert!(PathTemplate::parse("ws/rs").is_err());
        assert!(PathTemplate::parse("/a/{b").is_err());
        assert!(PathTemplate::parse("/a/:").is_err());
    }

    #[test]
    fn render_fills_parameters() {
        let t = PathTemplate::parse("/a/{x}/b{y}").unwrap();
        assert_eq!(t.render(|n| n.to_uppercase()), "/a/X/bY");
    }
}
