//! Content negotiation as CXF does it before invoking a resource method:
//! the response type is picked from the method's `@Produces` and the
//! request's `Accept` (or the `.json`/`.xml` path extension, which
//! replaces it); a body whose `Content-Type` the method does not
//! `@Consume` is refused.

/// A media range: `type/subtype` with its quality.
#[derive(Debug, Clone, PartialEq)]
struct Range {
    kind: String,
    sub: String,
    q: f32,
}

fn parse(list: &str) -> Vec<Range> {
    list.split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let mt = parts.next()?.trim().to_ascii_lowercase();
            if mt.is_empty() {
                return None;
            }
            let (kind, sub) = mt.split_once('/').unwrap_or((mt.as_str(), "*"));
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
            Some(Range {
                kind: kind.trim().to_owned(),
                sub: sub.trim().to_owned(),
                q,
            })
        })
        .collect()
}

fn compatible(a: &Range, b: &Range) -> bool {
    (a.kind == "*" || b.kind == "*" || a.kind == b.kind)
        && (a.sub == "*" || b.sub == "*" || a.sub == b.sub)
}

/// The method's declared types (`-`: none declared, which is `*/*`).
fn declared(cell: &str) -> Vec<Range> {
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
pub fn negotiate(produces: &str, accept: Option<&str>, forced: Option<&str>) -> Option<String> {
    let wanted = parse(
        forced
            .or(accept)
            .filter(|a| !a.trim().is_empty())
            .unwrap_or("*/*"),
    );
    let offered = declared(produces);
    let mut best: Option<(f32, usize, String)> = None;
    for (wi, w) in wanted.iter().enumerate() {
        if w.q <= 0.0 {
            continue;
        }
        for (oi, o) in offered.iter().enumerate() {
            if !compatible(w, o) {
                continue;
            }
            let concrete = if o.kind != "*" && o.sub != "*" {
                format!("{}/{}", o.kind, o.sub)
            } else if w.kind != "*" && w.sub != "*" {
                format!("{}/{}", w.kind, w.sub)
            } else {
                "application/octet-stream".to_owned()
            };
            let score = w.q * o.q;
            let rank = wi * 100 + oi;
            if best
                .as_ref()
                .is_none_or(|(s, r, _)| score > *s || (score == *s && rank < *r))
            {
                best = Some((score, rank, concrete));
            }
        }
    }
    best.map(|(_, _, m)| m)
}

/// Whether a request body of `content_type` may reach a method that
/// consumes `consumes` (no `Content-Type` is CXF's `*/*`).
pub fn accepts(consumes: &str, content_type: Option<&str>) -> bool {
    let Some(ct) = content_type.filter(|c| !c.trim().is_empty()) else {
        return true;
    };
    let given = parse(ct);
    let Some(given) = given.first() else {
        return true;
    };
    declared(consumes).iter().any(|c| compatible(c, given))
}

/// `application/json` or `application/xml`, the two renderers.
pub fn is_json(media: &str) -> bool {
    let m = media.to_ascii_lowercase();
    m.ends_with("/json") || m.ends_with("+json")
}

pub fn is_xml(media: &str) -> bool {
    let m = media.to_ascii_lowercase();
    m.ends_with("/xml") || m.ends_with("+xml")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
