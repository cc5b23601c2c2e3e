//! What a fuzz step reaches of the running scenario, and how it sends.

use emr_catalog::{Catalog, Lookup};
use serde_json::Value;

use crate::auth::{AuthContext, AuthState};
use crate::runner::RunOptions;
use crate::scenario::{Scenario, Vars};
use crate::target::{Target, TargetKind};
use crate::transport::{HttpRequest, HttpResponse, Transport};

/// The runner's state a fuzz step needs.
pub struct StepCx<'a> {
    pub scenario: &'a Scenario,
    pub target: &'a Target,
    pub opts: &'a RunOptions,
    pub transport: &'a Transport,
    pub catalog: &'a Catalog,
    pub auth: &'a mut AuthState,
    pub exercised: &'a mut Vec<String>,
    /// The step's name in the scenario (unique), for seeds.
    pub step_key: &'a str,
}

/// Sending for the channels: coverage and personal data are accounted as
/// for any step (the transport counts the time spent waiting).
pub(crate) struct Io<'a, 'b> {
    pub cx: &'a mut StepCx<'b>,
    pub vars: &'a mut Vars,
}

impl<'b> Io<'_, 'b> {
    pub fn target(&self) -> &'b Target {
        self.cx.target
    }

    pub fn is_mock(&self) -> bool {
        self.cx.target.kind == TargetKind::Mock
    }

    pub fn auth_ctx(&mut self) -> AuthContext<'_> {
        AuthContext {
            target: self.cx.target,
            transport: self.cx.transport,
            state: &mut *self.cx.auth,
            vars: &mut *self.vars,
        }
    }

    /// Coverage of what the auth drivers sent since the last call.
    pub fn drain_driver_calls(&mut self) {
        for (method, url) in std::mem::take(&mut self.cx.auth.calls) {
            self.exercised(&method, &url);
        }
    }

    fn exercised(&mut self, method: &str, url: &str) {
        let Some(rest) = url.strip_prefix(&self.cx.target.root) else {
            return;
        };
        let path = rest.split('?').next().unwrap_or("");
        if let Lookup::Found(op, _) = self
            .cx
            .catalog
            .resolve(method, self.cx.target.catalogue_path(path))
        {
            if !self.cx.exercised.contains(&op.id) {
                self.cx.exercised.push(op.id.clone());
            }
        }
    }

    pub fn record_soap(&mut self, service: &str, operation: &str) {
        if let Some(op) = self.cx.catalog.soap(service, operation) {
            if !self.cx.exercised.contains(&op.id) {
                self.cx.exercised.push(op.id.clone());
            }
        }
    }

    pub async fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, String> {
        let resp = self
            .cx
            .transport
            .send(req)
            .await
            .map_err(|e| format!("{} {}: {e}", req.method, req.url))?;
        self.cx.opts.policy.redactor.collect_personal(&resp.body);
        if !req.url.contains("/__admin/") {
            self.exercised(&req.method.clone(), &req.url.clone());
        }
        Ok(resp)
    }

    /// Calls the mock's admin API (`/__admin/...`) with an optional JSON
    /// body; its JSON answer.
    pub async fn admin(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut headers = Vec::new();
        if body.is_some() {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        let req = HttpRequest {
            method: method.to_owned(),
            url: format!("{}{path}", self.cx.target.root),
            headers,
            body: body.map(|b| b.to_string().into()),
        };
        let resp = self.send(&req).await?;
        if !(200..300).contains(&resp.status) {
            return Err(format!(
                "{method} {path} answered {}: {}",
                resp.status,
                resp.text().chars().take(200).collect::<String>()
            ));
        }
        Ok(serde_json::from_slice(&resp.body).unwrap_or(Value::Null))
    }

    /// Moves the mock's clock; returns its offset from real time, seconds.
    pub async fn advance_clock(&mut self, seconds: i64) -> Result<i64, String> {
        let v = self
            .admin(
                "POST",
                "/__admin/clock",
                Some(serde_json::json!({"advance_seconds": seconds})),
            )
            .await?;
        Ok(v["offset_seconds"].as_i64().unwrap_or(seconds))
    }

    pub async fn reset_clock(&mut self) -> Result<(), String> {
        self.admin(
            "POST",
            "/__admin/clock",
            Some(serde_json::json!({"reset": true})),
        )
        .await
        .map(|_| ())
    }
}
