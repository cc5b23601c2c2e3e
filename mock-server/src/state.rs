//! The mock's shared state: profile, clock, randomness, journals and one
//! store per site. Auth providers keep their own state beside the store,
//! per site, because the real systems scope clients and tokens that way.

use std::ops::Deref;
use std::sync::Arc;

use emr_catalog::{Catalog, Family, Profile, ProfileId};

use crate::clock::Clock;
use crate::journal::{AuditEntry, Journal, Ring};
use crate::rng::SeededRng;
use crate::store::{seed, Data, SeedConfig, Store};

/// How to build a mock.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub profile: ProfileId,
    /// Seed of every generated value: same seed, same data and tokens.
    pub seed: u64,
    /// Synthetic patients per site.
    pub patients: usize,
    /// Largest request body accepted, in bytes; larger ones get the
    /// dialect's 413.
    pub max_body_bytes: usize,
    /// Requests kept by the journal.
    pub journal_capacity: usize,
    /// How long a WS-Security login with a wrong password waits before it
    /// fails (OSCAR sleeps 250 ms to slow down password guessing).
    pub wss_failure_delay: std::time::Duration,
    /// Largest request line and headers accepted (Tomcat's
    /// `maxHttpHeaderSize`, 8 KiB); see [`crate::limits`].
    pub max_header_bytes: usize,
    /// How long a connection may take to send a request's headers
    /// (Tomcat's `connectionTimeout`, 20 s) before it is closed.
    pub header_read_timeout: std::time::Duration,
    /// How long a request's body may take to arrive, in all.
    pub body_read_timeout: std::time::Duration,
    /// Requests handled at once (Tomcat's `maxThreads`); more wait.
    pub max_concurrent_requests: usize,
    /// Connections open at once (Tomcat's `maxConnections`); more wait
    /// in the listen queue.
    pub max_connections: usize,
}

impl MockConfig {
    pub fn new(profile: ProfileId) -> Self {
        MockConfig {
            profile,
            seed: 1,
            patients: 50,
            max_body_bytes: 16 * 1024 * 1024,
            journal_capacity: 1000,
            wss_failure_delay: std::time::Duration::from_millis(250),
            max_header_bytes: 8 * 1024,
            header_read_timeout: std::time::Duration::from_secs(20),
            body_read_timeout: std::time::Duration::from_secs(60),
            max_concurrent_requests: 200,
            max_connections: 8192,
        }
    }
}

/// One site: OpenEMR multisite names each have their own data and
/// clients; OSCAR profiles have a single unnamed site.
#[derive(Debug)]
pub struct Site {
    pub name: String,
    pub store: Store,
    /// OpenEMR-family authorization server state (clients, keys, tokens).
    pub oauth2: crate::openemr::oauth2::SiteAuth,
    /// OSCAR's OAuth 1.0a clients, tokens and nonces.
    pub oauth1: crate::oscar::oauth1::Provider,
    /// Tomcat HTTP sessions (`JSESSIONID`), for `/login.do` and `/ws/rs`.
    pub sessions: crate::oscar::session::Sessions,
}

/// Everything a handler can reach.
#[derive(Debug)]
pub struct Shared {
    pub profile: &'static Profile,
    pub catalog: Arc<Catalog>,
    pub config: MockConfig,
    pub clock: Clock,
    pub rng: SeededRng,
    pub journal: Journal,
    pub audit: Ring<AuditEntry>,
    /// SOAP and WS-Security state (nonce cache, boot time for tokens).
    pub soap: crate::oscar::SoapState,
    /// Requests handled at once, against hostile clients.
    pub limits: crate::limits::Limits,
    /// In the profile's order; the first is the default site.
    sites: Vec<Site>,
}

/// Cheap-to-clone handle on [`Shared`], the axum state.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(config: MockConfig) -> Self {
        let profile = config.profile.profile();
        let clock = Clock::default();
        let names = site_names(profile);
        let data = seed_sites(&config, profile.family, names.len(), &clock);
        let sites = names
            .into_iter()
            .zip(data)
            .enumerate()
            .map(|(i, (name, data))| {
                let oauth2 = crate::openemr::oauth2::SiteAuth::new(
                    config.profile,
                    &name,
                    site_seed(config.seed, i),
                );
                Site {
                    name,
                    store: Store::new(data),
                    oauth2,
                    oauth1: crate::oscar::oauth1::Provider::new(clock.now()),
                    sessions: Default::default(),
                }
            })
            .collect();
        AppState(Arc::new(Shared {
            profile,
            catalog: Catalog::of(config.profile),
            rng: SeededRng::with_stream(config.seed, config.profile as u64),
            journal: Journal::new(config.journal_capacity),
            audit: Ring::new(config.journal_capacity),
            soap: crate::oscar::SoapState::new(&clock),
            limits: crate::limits::Limits::new(&config),
            clock,
            sites,
            config,
        }))
    }
}

impl Shared {
    /// A site by name (OpenEMR multisite); `None` for an unknown site.
    pub fn site(&self, name: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.name == name)
    }

    /// The default site: the only one for OSCAR, `default` for OpenEMR.
    pub fn default_site(&self) -> &Site {
        // Every profile has at least one site, built in `AppState::new`.
        &self.sites[0]
    }

    pub fn sites(&self) -> impl Iterator<Item = &Site> {
        self.sites.iter()
    }

    /// Back to the deterministic seed data: stores, randomness, clock and
    /// journals, optionally with a new seed or size.
    pub fn reset(&self, seed: Option<u64>, patients: Option<usize>) {
        self.clock.reset();
        let seed = seed.unwrap_or(self.config.seed);
        let mut config = self.config.clone();
        config.seed = seed;
        if let Some(p) = patients {
            config.patients = p;
        }
        self.rng.reseed(seed);
        let data = seed_sites(&config, self.profile.family, self.sites.len(), &self.clock);
        for (i, (site, data)) in self.sites.iter().zip(data).enumerate() {
            site.oauth2.reset(site_seed(seed, i));
            site.store.replace(data);
            site.oauth1.reset(self.clock.now());
            site.sessions.clear();
        }
        self.journal.clear();
        self.audit.clear();
        self.soap.reset();
    }

    /// Records a row of the real system's audit log.
    pub fn audit(&self, action: &str, provider_no: Option<&str>, ip: Option<&str>, detail: &str) {
        self.audit.push(AuditEntry {
            at: self.clock.now(),
            action: action.to_owned(),
            provider_no: provider_no.map(str::to_owned),
            ip: ip.map(str::to_owned),
            detail: detail.to_owned(),
        });
    }
}

fn site_names(profile: &Profile) -> Vec<String> {
    if profile.sites.is_empty() {
        vec![String::new()]
    } else {
        profile.sites.clone()
    }
}

/// Each site gets its own data, still fixed by the one seed.
fn site_seed(seed: u64, site_index: usize) -> u64 {
    seed.wrapping_add(site_index as u64 * 0x9E37_79B9)
}

/// The seed data of each of `sites` sites. Sites share nothing, so with
/// more than one each is generated on a thread of its own: the OpenEMR
/// profile's two sites take the wall time of one on two cores.
fn seed_sites(config: &MockConfig, family: Family, sites: usize, clock: &Clock) -> Vec<Data> {
    let configs: Vec<SeedConfig> = (0..sites)
        .map(|i| seed_config(config, family, i, clock))
        .collect();
    let data = if configs.len() < 2 {
        configs.iter().map(seed::generate).collect()
    } else {
        std::thread::scope(|scope| {
            let seeding: Vec<_> = configs
                .iter()
                .map(|c| {
                    scope.spawn(move || {
                        let data = seed::generate(c);
                        release_freed_memory();
                        data
                    })
                })
                .collect();
            seeding
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    release_freed_memory();
    data
}

/// Gives the pages that seeding used for scratch (interners, sort buffers)
/// back to the system now, from the calling thread's heap: each seeding
/// thread calls it before it ends, and the caller once all are done.
/// mimalloc would return them only after later allocations in the same
/// heaps, and a mock that is seeded and then idle kept them resident:
/// about 8 MB a site of 100,000 patients. A no-op where mimalloc is not
/// the allocator.
fn release_freed_memory() {
    // SAFETY: mi_collect takes a flag and walks mimalloc's own heaps; it
    // is safe to call from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

fn seed_config(
    config: &MockConfig,
    family: Family,
    site_index: usize,
    clock: &Clock,
) -> SeedConfig {
    SeedConfig {
        seed: site_seed(config.seed, site_index),
        patients: config.patients,
        today: clock.now().date_naive(),
        family,
    }
}
