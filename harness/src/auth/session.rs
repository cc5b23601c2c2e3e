//! The `session` driver: OSCAR's `/login.do` cookie path. It logs the
//! scenario's user in once; the scenario's HTTP client keeps the
//! `JSESSIONID` cookie and sends it with every later request.

use serde_json::Value;

use super::{field, user, AuthContext, AuthError};
use crate::scenario::SessionOptions;
use crate::transport::HttpRequest;

const DRIVER: &str = "session";

/// Which users are logged in on the scenario's cookie jar.
#[derive(Debug, Default)]
pub struct State {
    logged_in: Option<String>,
}

pub async fn authorize(
    opts: &SessionOptions,
    ctx: &mut AuthContext<'_>,
    req: &mut HttpRequest,
) -> Result<(), AuthError> {
    // A session provided with the target (`credentials.tokens.session`)
    // is sent as it is: no login.
    if let Some(cookie) = crate::live::tokens::session(&ctx.target.credentials)
        .map_err(|e| AuthError::new(DRIVER, e))?
    {
        req.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("cookie"));
        req.headers
            .push(("Cookie".into(), format!("{}={}", cookie.name, cookie.value)));
        return Ok(());
    }
    let username = ctx.render(DRIVER, opts.user.as_ref())?;
    let u = user(DRIVER, &ctx.target.credentials, username.as_deref())?.clone();
    let name = field(&u, "username");
    if ctx.state.session.logged_in.as_deref() == Some(name.as_str()) {
        return Ok(());
    }
    login(ctx, &u, opts.ajax, None).await?;
    ctx.state.session.logged_in = Some(name);
    Ok(())
}

/// `POST {context}/login.do` with the user's username, password and PIN
/// on `transport`; `oauth_token` ties the login to a consent page.
pub(crate) async fn login(
    ctx: &AuthContext<'_>,
    u: &Value,
    ajax: bool,
    browser: Option<(&crate::transport::Transport, &str)>,
) -> Result<(), AuthError> {
    let mut form = vec![
        ("username".to_owned(), field(u, "username")),
        ("password".to_owned(), field(u, "password")),
        ("pin".to_owned(), field(u, "pin")),
    ];
    if ajax {
        form.push(("ajaxResponse".into(), "true".into()));
    }
    let transport = match browser {
        Some((t, oauth_token)) => {
            form.push(("invalidate_session".into(), "false".into()));
            form.push(("oauth_token".into(), oauth_token.to_owned()));
            t
        }
        None => ctx.transport,
    };
    let req = HttpRequest {
        method: "POST".into(),
        url: ctx.target.url("/login.do"),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(crate::runner::encode_pairs(&form).into()),
    };
    let resp = transport
        .send(&req)
        .await
        .map_err(|e| AuthError::new(DRIVER, format!("POST /login.do: {e}")))?;
    let who = field(u, "username");
    if ajax {
        let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        if v["success"] != true {
            return Err(AuthError::new(
                DRIVER,
                format!(
                    "login of `{who}` refused: HTTP {} {}",
                    resp.status,
                    resp.text().chars().take(200).collect::<String>()
                ),
            ));
        }
    } else {
        let location = resp.header("location").unwrap_or("");
        if !(300..400).contains(&resp.status)
            || location.is_empty()
            || location.contains("login=failed")
        {
            return Err(AuthError::new(
                DRIVER,
                format!(
                    "login of `{who}` refused: HTTP {}, Location `{location}`",
                    resp.status
                ),
            ));
        }
    }
    Ok(())
}
