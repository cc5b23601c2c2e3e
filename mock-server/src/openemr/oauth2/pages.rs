//! The HTML of the browser flow (login, patient picker, consent) and the
//! small HTTP helpers it needs: the session cookie, forms, query strings.
//!
//! The pages carry the fields and buttons of OpenEMR's twig templates
//! (`oauth2-login.html.twig`, `scope-authorize.html.twig`), not their
//! styling: a client or a harness drives them by field name.

use axum::http::{header, HeaderMap};

use crate::error::xml_escape as esc;

/// The OAuth session cookie of OpenEMR's authorization server.
pub const SESSION_COOKIE: &str = "authserverOpenEMR";

/// `uri` with `pairs` appended to its query, as PHP's `http_build_query`
/// writes it (spaces as `+`).
pub fn append_query(uri: &str, pairs: &[(&str, String)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", q.finish())
}

/// Decodes `a=1&b=2` (form or query), in order.
pub fn parse_pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The session id from the request's cookies.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

pub fn set_cookie(id: &str) -> String {
    format!("{SESSION_COOKIE}={id}; path=/; HttpOnly; SameSite=Lax")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}\n</body></html>\n",
        esc(title)
    )
}

/// The login form: staff ("OpenEMR Login", `user_role=api`) or patient
/// ("Patient Login", `user_role=portal-api`, e-mail required).
pub fn login(action: &str, csrf: &str, client_name: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| {
            format!(
                "<div class=\"alert alert-danger\" id=\"login-error\">{}</div>\n",
                esc(e)
            )
        })
        .unwrap_or_default();
    page(
        "OpenEMR Authorization",
        &format!(
            "<h1>Sign in</h1>\n<p>{client} is requesting access.</p>\n{error}<form method=\"post\" action=\"{action}\" id=\"login-form\">\n\
<input type=\"hidden\" name=\"csrf_token_form\" value=\"{csrf}\">\n\
<label for=\"username\">Username</label><input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\">\n\
<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">\n\
<label for=\"email\">E-mail (patients)</label><input type=\"email\" id=\"email\" name=\"email\">\n\
<label><input type=\"checkbox\" name=\"persist_login\" value=\"1\"> Remember me</label>\n\
<button type=\"submit\" name=\"user_role\" value=\"api\">OpenEMR Login</button>\n\
<button type=\"submit\" name=\"user_role\" value=\"portal-api\">Patient Login</button>\n\
</form>",
            client = esc(client_name),
            action = esc(action),
            csrf = esc(csrf),
        ),
    )
}

/// The patient picker: one submit button per patient.
pub fn patient_select(action: &str, csrf: &str, patients: &[(String, String, String)]) -> String {
    let rows: String = patients
        .iter()
        .map(|(uuid, name, dob)| {
            format!(
                "<tr><td>{}</td><td>{}</td><td><button type=\"submit\" name=\"patient_id\" value=\"{}\">Select</button></td></tr>\n",
                esc(name),
                esc(dob),
                esc(uuid)
            )
        })
        .collect();
    page(
        "Select Patient",
        &format!(
            "<h1>Select a patient</h1>\n<form method=\"post\" action=\"{}\" id=\"patient-select\">\n\
<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\n<table>\n<tr><th>Name</th><th>Date of birth</th><th></th></tr>\n{rows}</table>\n</form>",
            esc(action),
            esc(csrf)
        ),
    )
}

/// The consent page: a checkbox per requested scope (checked), `openid`
/// hidden, the offline-access end date.
pub fn consent(
    action: &str,
    csrf: &str,
    client_name: &str,
    user: &str,
    scopes: &[String],
    offline_until: &str,
) -> String {
    let mut items = String::new();
    for s in scopes {
        if s == "openid" {
            items.push_str("<input type=\"hidden\" name=\"scope[openid]\" value=\"openid\">\n");
            continue;
        }
        let note = if s == "offline_access" {
            format!(" (until {offline_until})")
        } else {
            String::new()
        };
        items.push_str(&format!(
            "<li><label><input type=\"checkbox\" name=\"scope[{s}]\" value=\"{s}\" checked> {s}{note}</label></li>\n",
            s = esc(s)
        ));
    }
    page(
        "OpenEMR Authorization",
        &format!(
            "<h1>{client} requests access</h1>\n<p>Signed in as {user}.</p>\n<form method=\"post\" action=\"{action}\" id=\"consent-form\">\n\
<input type=\"hidden\" name=\"csrf_token_form\" value=\"{csrf}\">\n<ul>\n{items}</ul>\n\
<label><input type=\"checkbox\" name=\"persist_login\" value=\"1\"> Remember me</label>\n\
<button type=\"submit\" name=\"proceed\" value=\"1\">Authorize</button>\n\
<button type=\"submit\" name=\"deny\" value=\"1\">Deny</button>\n</form>",
            client = esc(client_name),
            user = esc(user),
            action = esc(action),
            csrf = esc(csrf),
        ),
    )
}

/// OpenEMR's error page for a broken browser flow.
pub fn error_page(message: &str) -> String {
    page(
        "OpenEMR Error",
        &format!("<h1>Error</h1>\n<p>{}</p>", esc(message)),
    )
}
