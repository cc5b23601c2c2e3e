//! Who is calling: `StatusService.checkIfAuthed` and Open-O/OSCAR 19's
//! `OAuthStatusService.oauthInfo`.

use serde_json::json;

use super::super::{Call, Outcome, Variant};
use crate::oscar::jsonlib;
use crate::oscar::rest::Via;

/// `GET /status/checkIfAuthed`: a `GenericRESTResponse` whose message is
/// the provider number.
pub fn check_if_authed(call: &mut Call<'_>) -> Outcome {
    match call.login() {
        Ok(p) => Outcome::Value(json!({"success": true, "message": p.provider_no})),
        Err(o) => o,
    }
}

/// `GET /ws/services/oauth/info`, a json-lib `String`. Open-O:
/// `{"providers": <provider>, "login": .., "roles": <scopes>}`, where the
/// scopes are only found when the token came in the `Authorization`
/// header; on any exception it answers 200 `{"error": ...}`. OSCAR 19:
/// `{"provider": .., "login": .., "roles": []}`.
pub fn oauth_info(call: &mut Call<'_>) -> Outcome {
    let principal = call.principal.clone();
    let provider = principal
        .as_ref()
        .and_then(|p| call.read(|d| d.provider(&p.provider_no).cloned()));
    let body = match (principal, provider) {
        (Some(p), Some(provider)) => {
            let bean = jsonlib::provider_bean(&provider);
            if call.variant == Variant::OpenO {
                let roles: Vec<String> = match &p.via {
                    Via::OAuth1 {
                        in_header: true, ..
                    } => p.scopes.clone(),
                    _ => Vec::new(),
                };
                json!({"providers": bean, "login": p.provider_no, "roles": roles})
            } else {
                json!({"provider": bean, "login": p.provider_no, "roles": []})
            }
        }
        _ => json!({"error": "An internal error occurred. Please try again later."}),
    };
    Outcome::Raw {
        status: 200,
        content_type: "application/json".into(),
        body: body.to_string().into_bytes(),
    }
}
