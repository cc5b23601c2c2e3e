//! Reading request bodies with a size limit, so an oversized upload costs
//! at most `limit` bytes of memory and ends in the dialect's 413.

use axum::body::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::Failure;

/// Collects a body of at most `limit` bytes.
pub async fn read(body: Body, limit: usize) -> Result<Bytes, Failure> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Failure::PayloadTooLarge { limit })
        }
        Err(e) => match crate::limits::timed_out(&*e) {
            Some(d) => Err(Failure::RequestTimeout {
                seconds: d.as_secs_f64().ceil() as u64,
            }),
            None => Err(Failure::BadRequest(format!(
                "could not read the request body: {e}"
            ))),
        },
    }
}

/// The media type of a `Content-Type` value, lower-cased, without parameters.
pub fn media_type(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn oversized_bodies_are_refused() {
        let err = read(Body::from(vec![0u8; 11]), 10).await.unwrap_err();
        assert_eq!(err, Failure::PayloadTooLarge { limit: 10 });
        assert_eq!(read(Body::from("abc"), 10).await.unwrap(), "abc");
    }

    #[test]
    fn media_type_drops_parameters() {
        assert_eq!(media_type(Some("Text/XML; charset=UTF-8")), "text/xml");
        assert_eq!(media_type(None), "");
    }
}
