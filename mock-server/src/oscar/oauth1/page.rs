//! `login/3rdpartyLogin.jsp` as it renders: the OSCAR logo, a Username /
//! Password / Pin form that logs in by an AJAX POST to `login.do`, and the
//! consent form listing the application, its URI and the requested
//! scopes, with "Authorize" (allow) and "Cancel" (deny).
//!
//! Both divs are always in the HTML; the page's script shows one or the
//! other, so a client without a browser finds the same forms a user sees.

use crate::error::xml_escape as esc;

/// What the page shows.
#[derive(Debug)]
pub struct ConsentPage<'a> {
    pub context: &'a str,
    pub session_id: &'a str,
    /// `Last, First` of the logged-in provider, if someone is logged in.
    pub logged_in: Option<&'a str>,
    pub application_name: &'a str,
    pub application_uri: &'a str,
    pub permissions: &'a [String],
    /// CXF's session token; Open-O never sets it, so the field is empty.
    pub authenticity_token: &'a str,
    pub oauth_token: &'a str,
    /// Where the consent form posts: `<abs>/ws/oauth/authorize/decision`
    /// in OSCAR 19 and Juno, `<context>/ws/oauth/authorize` in Open-O.
    pub reply_to: &'a str,
    /// OSCAR 19 / Juno wording, or Open-O's.
    pub classic: bool,
}

impl ConsentPage<'_> {
    pub fn render(&self) -> String {
        let ctx = esc(self.context);
        let sid = esc(self.session_id);
        let name = esc(self.application_name);
        let uri = esc(self.application_uri);
        let logged_in = self.logged_in.is_some();
        let provider = esc(self.logged_in.unwrap_or(""));
        let request_line = if self.classic {
            format!(
                "The 3rd party application &quot;{name}&quot; is requesting access to your OSCAR account.<br>\n                        URL for {name} is {uri}."
            )
        } else {
            format!(
                "The 3rd party application\n                        &quot;{name}&quot;\n                        is requesting access to your OSCAR account.<br>\n                        URL: {uri}."
            )
        };
        let permissions: String = self
            .permissions
            .iter()
            .map(|p| {
                let empty = if p.trim().is_empty() {
                    "\n                                <em>(no description)</em>"
                } else {
                    ""
                };
                format!(
                    "                            <div class=\"control group\">\n                            <div class=\"controls\">\n                                <label class=\"checkbox\">\n                                <input type=\"checkbox\" checked=\"checked\" disabled=\"disabled\">\n                                {}{empty}\n                                </label>\n                            </div>\n                            </div>\n",
                    esc(p)
                )
            })
            .collect();
        format!(
            r#"<!DOCTYPE html>
<html>
<head>
    <meta charset="UTF-8">
    <title>Login and Authorize 3rd Party Application</title>
    <link href="{ctx}/css/bootstrap.css" rel="stylesheet">
    <script>
        const el = (id) => document.getElementById(id);
        const show = (id) => {{ const n = el(id); if (n) n.style.display = ""; }};
        const hide = (id) => {{ const n = el(id); if (n) n.style.display = "none"; }};
        window.deny = () => {{
            el("oauthDecision").value = "deny";
            el("scopeForm").submit();
        }};
        window.submitCredentials = async () => {{
            const loginUrl = "{ctx}/login.do;jsessionid={sid}";
            const formData = new URLSearchParams();
            formData.set("username", el("username").value);
            formData.set("password", el("password").value);
            formData.set("pin", el("pin").value);
            formData.set("ajaxResponse", "true");
            formData.set("invalidate_session", "false");
            formData.set("oauth_token", el("oauth_token").value);
            const res = await fetch(loginUrl, {{
                method: "POST",
                headers: {{ "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8" }},
                body: formData.toString(),
                credentials: "same-origin"
            }});
            const data = await res.json();
            if (data && data.success) {{
                hide("login_div"); show("scope_div"); show("loggedin_div");
                el("providerName").textContent = data.providerName || "";
            }} else {{
                el("login_error").style.display = "";
                el("login_error").querySelector("span span").textContent = data.error || "Login failed.";
            }}
        }};
        document.addEventListener("DOMContentLoaded", () => {{
            if ({logged_in}) {{ hide("login_div"); show("loggedin_div"); }}
            else {{ show("login_div"); hide("loggedin_div"); }}
        }});
    </script>
</head>
<body>
<div class="container">
    <div class="row">
        <div class="span5">
            <div style="margin-top:25px;">
                <img src="{ctx}/images/OSCAR-LOGO.gif" width="450" height="274" alt="OSCAR Logo">
            </div>
        </div>
        <div class="span7">
            <div id="login_div" class="form-container">
                <form class="form-signin">
                    <h2 class="form-signin-heading">Please sign in</h2>
                    <input class="input-block-level" placeholder="Username" type="text" id="username">
                    <input class="input-block-level" placeholder="Password" type="password" id="password">
                    <input class="input-block-level" placeholder="Pin" type="password" id="pin">
                    <div id="login_error" class="help-block" style="display:none;">
                        <span class="text-error"><strong>Login Failed: </strong><span></span></span>
                    </div>
                    <button class="btn btn-large btn-primary" type="button" onclick="submitCredentials()">Sign in</button>
                </form>
            </div>
            <div id="loggedin_div">
                    <form class="form-signin">
                        <h2 class="form-signin-heading">Welcome</h2>
                        <h4><span id="providerName">{provider}</span></h4>
                    </form>
                    <h5>
                        {request_line}
                    </h5>
                    <h5>Permissions requested:</h5>
                    <form id="scopeForm" method="post" action="{reply_to};jsessionid={sid}">
{permissions}
                        <input type="hidden" name="session_authenticity_token" value="{token}"/>
                        <input type="hidden" name="oauth_token" id="oauth_token" value="{oauth_token}"/>
                        <input type="hidden" name="oauthDecision" id="oauthDecision" value="allow"/>
                        <button type="submit" class="btn btn-primary">Authorize {name}</button>
                        <button type="button" class="btn btn-danger" onclick="deny();">Cancel</button>
                    </form>
            </div>
        </div>
    </div>
</div>
</body>
</html>
"#,
            reply_to = esc(self.reply_to),
            token = esc(self.authenticity_token),
            oauth_token = esc(self.oauth_token),
        )
    }
}

/// CXF's out-of-band answer: the verifier shown to the user.
pub fn oob(token: &str, verifier: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><body><h5>Request token {} has verifier {}</h5></body></html>\n",
        esc(token),
        esc(verifier)
    )
}
