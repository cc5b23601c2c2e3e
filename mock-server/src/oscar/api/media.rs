//! Content negotiation as CXF does it before invoking a resource method:
//! the response type is picked from the method's `@Produces` and the
//! request's `Accept` (or the `.json`/`.xml` path extension, which
//! replaces it); a body whose `Content-Type` the method does not
//! `@Consume` is refused.

/// A media range: `type/subtype` with its quality, lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRange {
    kind: Box<str>,
    sub: Box<str>,
    q: f32,
}

/// A range of a request header, borrowed from it.
#[derive(Debug, Clone, Copy)]
struct Wanted<'a> {
    kind: &'a str,
    sub: &'a str,
    q: f32,
}

/// The ranges of a media type list (`Accept`, `@Produces`), as written:
/// type and subtype trimmed, not yet lower-cased.
fn ranges(list: &str) -> impl Iterator<Item = Wanted<'_>> {
    list.split(',').filter_map(|item| {
        let mut parts = item.split(';');
        let mt = parts.next()?.trim();
        if mt.is_empty() {
            return None;
        }
        let (kind, sub) = mt.split_once('/').unwrap_or((mt, "*"));
        let mut q = 1.0;
        for p in parts {
            if let Some(v) = p
                .trim()
                .strip_prefix("q=")
                .or_else(|| p.trim().strip_prefix("qs="))
            {
                q = v.trim().parse().unwrap_or(1.0);
            }
        }
        Some(Wanted {
            kind: kind.trim(),
            sub: sub.trim(),
            q,
        })
    })
}

fn parse(list: &str) -> Vec<MediaRange> {
    ranges(list)
        .map(|w| MediaRange {
            kind: w.kind.to_ascii_lowercase().into(),
            sub: w.sub.to_ascii_lowercase().into(),
            q: w.q,
        })
        .collect()
}

/// Whether one part of a range (type or subtype) matches another; `*`
/// matches anything, and requests are compared without regard to case.
fn part_matches(wanted: &str, offered: &str) -> bool {
    wanted == "*" || offered == "*" || wanted.eq_ignore_ascii_case(offered)
}

fn compatible(w: &Wanted<'_>, o: &MediaRange) -> bool {
    part_matches(w.kind, &o.kind) && part_matches(w.sub, &o.sub)
}

/// A method's declared types (`-`: none declared, which is `*/*`).
pub fn declared(cell: &str) -> Vec<MediaRange> {
    match cell.trim() {
        "" | "-" => parse("*/*"),
        c => parse(c),
    }
}

/// The response media type, or `None` for CXF's 406.
///
/// `accept` is the `Accept` header (absent: `*/*`); `forced` the type a
/// `.json`/`.xml` extension maps to. Client preference comes first, then
/// the method's declaration order.
pub fn negotiate(
    offered: &[MediaRange],
    accept: Option<&str>,
    forced: Option<&str>,
) -> Option<String> {
    let wanted = forced
        .or(accept)
        .filter(|a| !a.trim().is_empty())
        .unwrap_or("*/*");
    let mut best: Option<(f32, usize, Wanted<'_>, &MediaRange)> = None;
    for (wi, w) in ranges(wanted).enumerate() {
        if w.q <= 0.0 {
            continue;
        }
        for (oi, o) in offered.iter().enumerate() {
            if !compatible(&w, o) {
                continue;
            }
            let score = w.q * o.q;
            let rank = wi * 100 + oi;
            if best
                .as_ref()
                .is_none_or(|(s, r, _, _)| score > *s || (score == *s && rank < *r))
            {
                best = Some((score, rank, w, o));
            }
        }
    }
    let (_, _, w, o) = best?;
    Some(if &*o.kind != "*" && &*o.sub != "*" {
        format!("{}/{}", o.kind, o.sub)
    } else if w.kind != "*" && w.sub != "*" {
        format!("{}/{}", w.kind, w.sub).to_ascii_lowercase()
    } else {
        "application/octet-stream".to_owned()
    })
}

/// Whether a request body of `content_type` may reach a method that
/// consumes `consumes` (no `Content-Type` is CXF's `*/*`).
pub fn accepts(consumes: &[MediaRange], content_type: Option<&str>) -> bool {
    let Some(ct) = content_type.filter(|c| !c.trim().is_empty()) else {
        return true;
    };
    let Some(given) = ranges(ct).next() else {
        return true;
    };
    consumes.iter().any(|c| compatible(&given, c))
}

/// `application/json` or `application/xml`, the two renderers.
pub fn is_json(media: &str) -> bool {
    ends_with_ignore_case(media, "/json") || ends_with_ignore_case(media, "+json")
}

pub fn is_xml(media: &str) -> bool {
    ends_with_ignore_case(media, "/xml") || ends_with_ignore_case(media, "+xml")
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.as_bytes()[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiate(produces: &str, accept: Option<&str>, forced: Option<&str>) -> Option<String> {
        super::negotiate(&declared(produces), accept, forced)
    }

    fn accepts(consumes: &str, content_type: Option<&str>) -> bool {
        super::accepts(&declared(consumes), content_type)
    }

    #[test]
    fn the_extension_overrides_accept() {
        assert_eq!(
            negotiate(
                "application/json,application/xml",
                Some("application/xml"),
                Some("application/json")
            )
            .as_deref(),
            Some("application/json")
        );
    }

    #[test]
    fn the_first_declared_type_wins_for_any() {
        assert_eq!(
            negotiate("application/json,application/xml", None, None).as_deref(),
            Some("application/json")
        );
        assert_eq!(
            negotiate(
                "application/xml",
                Some("application/json, text/plain, */*"),
                None
            )
            .as_deref(),
            Some("application/xml")
        );
        assert_eq!(
            negotiate("-", Some("text/plain"), None).as_deref(),
            Some("text/plain")
        );
    }

    #[test]
    fn nothing_acceptable_is_none() {
        assert_eq!(
            negotiate("application/json", Some("application/xml"), None),
            None
        );
        assert_eq!(
            negotiate("application/xml", None, Some("application/json")),
            None
        );
    }

    #[test]
    fn consumes_checks_the_content_type() {
        assert!(accepts(
            "application/json",
            Some("application/json; charset=UTF-8")
        ));
        assert!(!accepts("application/json", Some("text/plain")));
        assert!(accepts("application/json", None));
        assert!(accepts("-", Some("text/plain")));
        assert!(accepts("application/json", Some("Application/JSON")));
    }

    #[test]
    fn requests_are_read_without_regard_to_case() {
        assert_eq!(
            negotiate("application/json", Some("Application/JSON"), None).as_deref(),
            Some("application/json")
        );
        assert_eq!(
            negotiate("-", Some("Text/Plain"), None).as_deref(),
            Some("text/plain")
        );
        assert!(is_json("application/fhir+JSON"));
        assert!(is_xml("Text/XML"));
        assert!(!is_json("json"));
    }
}
