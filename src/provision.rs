//! Targets for the harness: the embedded mock (a fresh server per
//! scenario, so each sees the deterministic seed data) or a live server.

use std::future::Future;
use std::pin::Pin;

use emr_catalog::ProfileId;
use emr_harness::suite::{Lease, Provisioner};
use emr_harness::target::{Target, TargetKind};
use emr_mock::{MockConfig, MockServer};

/// Starts an in-process mock on a free loopback port for every lease.
#[derive(Debug, Clone)]
pub struct EmbeddedMock {
    pub seed: u64,
    pub patients: usize,
}

impl Default for EmbeddedMock {
    fn default() -> Self {
        let c = MockConfig::new(ProfileId::Oscar);
        EmbeddedMock {
            seed: c.seed,
            patients: c.patients,
        }
    }
}

impl EmbeddedMock {
    /// Starts one mock and describes it as a target.
    pub async fn start(&self, profile: ProfileId) -> std::io::Result<(MockServer, Target)> {
        let mut config = MockConfig::new(profile);
        config.seed = self.seed;
        config.patients = self.patients;
        let server = MockServer::start_local(config).await?;
        let credentials = emr_mock::credentials::of(server.state());
        let target = Target::new(TargetKind::Mock, profile, &server.base_url(), credentials);
        Ok((server, target))
    }
}

impl Provisioner for EmbeddedMock {
    fn lease(
        &self,
        profile: ProfileId,
    ) -> Pin<Box<dyn Future<Output = Result<Lease, String>> + Send + '_>> {
        Box::pin(async move {
            let (server, target) = self
                .start(profile)
                .await
                .map_err(|e| format!("could not start the {profile} mock: {e}"))?;
            Ok(Lease {
                target,
                guard: Box::new(server),
            })
        })
    }
}

/// A live server: every lease is the same target.
#[derive(Debug, Clone)]
pub struct Live {
    pub target: Target,
}

impl Provisioner for Live {
    fn lease(
        &self,
        profile: ProfileId,
    ) -> Pin<Box<dyn Future<Output = Result<Lease, String>> + Send + '_>> {
        Box::pin(async move {
            if profile != self.target.profile {
                return Err(format!(
                    "the target is a {} server; this scenario is for {profile}",
                    self.target.profile
                ));
            }
            Ok(Lease {
                target: self.target.clone(),
                guard: Box::new(()),
            })
        })
    }
}
