//! OSCAR REST reads served from kept text and from indexes answer what
//! the store holds. The writer keeps the written text of store rows (the
//! clinic's specialists, a patient's provider, a whole demographic) for
//! as long as the store keeps its stamp: these tests change such rows in
//! place, where the kept text was taken from, and through two stores read
//! alternately on one thread, and check that every read shows the data as
//! it is. The quick search walks the name index: it must answer what a
//! scan of every patient would.

mod support;

use chrono::Utc;
use emr_catalog::ProfileId;
use emr_mock::{MockConfig, MockServer};
use serde_json::Value;
use support::oscar::session;

async fn mock() -> MockServer {
    MockServer::start_local(MockConfig::new(ProfileId::Oscar))
        .await
        .unwrap()
}

/// `GET /oscar/ws/rs{path}` as JSON.
async fn get_json(server: &MockServer, client: &reqwest::Client, path: &str) -> Value {
    client
        .get(format!("{}/oscar/ws/rs{path}", server.base_url()))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn demographic(server: &MockServer, client: &reqwest::Client) -> Value {
    get_json(server, client, "/demographics/1").await
}

/// Renames the first specialist and patient 1's provider, in place.
fn rename(server: &MockServer, name: &str) {
    server.state().default_site().store.write(|d| {
        let id = d.records.rows("specialists").next().unwrap().id;
        d.records.update("specialists", id, Utc::now(), |row| {
            row.insert("firstName".into(), Value::String(name.into()));
        });
        let provider_no = d.patients().get(1).unwrap().provider_no.clone();
        let provider = d.provider(&provider_no).unwrap().id;
        d.providers
            .update(provider, Utc::now(), |p| p.first_name = name.into())
            .unwrap();
    });
}

fn names(v: &Value) -> (String, String) {
    (
        v["referralDoctors"][0]["firstName"]
            .as_str()
            .unwrap()
            .into(),
        v["provider"]["firstName"].as_str().unwrap().into(),
    )
}

#[tokio::test(flavor = "current_thread")]
async fn a_row_changed_in_place_is_read_as_it_now_is() {
    let server = mock().await;
    let client = session(&server).await;
    let before = demographic(&server, &client).await;
    // Read twice, so the rows' text is kept.
    assert_eq!(demographic(&server, &client).await, before);
    rename(&server, "Renamed");
    let after = demographic(&server, &client).await;
    assert_eq!(names(&after), ("Renamed".to_owned(), "Renamed".to_owned()));
    assert_ne!(names(&before).0, "Renamed");
}

#[tokio::test(flavor = "current_thread")]
async fn two_stores_read_in_turn_on_one_thread_each_show_their_own_rows() {
    let (a, b) = (mock().await, mock().await);
    let (ca, cb) = (session(&a).await, session(&b).await);
    rename(&b, "OnlyInB");
    for _ in 0..3 {
        assert_ne!(names(&demographic(&a, &ca).await).0, "OnlyInB");
        assert_eq!(
            names(&demographic(&b, &cb).await),
            ("OnlyInB".to_owned(), "OnlyInB".to_owned())
        );
    }
}

/// The whole record is kept too: a change to the patient's own row, the
/// day its age is counted to and the lists `includes[]` adds each show.
#[tokio::test(flavor = "current_thread")]
async fn a_kept_record_follows_its_row_the_day_and_the_lists_asked_for() {
    let server = mock().await;
    let client = session(&server).await;
    let before = demographic(&server, &client).await;
    assert_eq!(demographic(&server, &client).await, before);

    let with_allergies = get_json(&server, &client, "/demographics/1?includes[]=allergies").await;
    assert!(with_allergies["allergies"].is_array(), "{with_allergies}");
    let without = demographic(&server, &client).await;
    assert!(!without["allergies"].is_array(), "{}", without["allergies"]);

    server.state().default_site().store.write(|d| {
        d.update_patient(1, Utc::now(), |p| p.last_name = "Kept-Not".into())
            .unwrap();
    });
    assert_eq!(demographic(&server, &client).await["lastName"], "Kept-Not");

    let age = |v: &Value| v["age"]["years"].as_i64().unwrap();
    let now = demographic(&server, &client).await;
    server
        .state()
        .clock
        .advance(chrono::Duration::days(3 * 366));
    // The session has long expired by then.
    let client = session(&server).await;
    let later = demographic(&server, &client).await;
    assert_eq!(
        age(&later),
        age(&now) + 3,
        "{} then {}",
        now["age"],
        later["age"]
    );
}

/// The quick search finds names through the index: against a store of a
/// few thousand patients it answers what a scan of every patient would,
/// in name order, the first ten of the total.
#[tokio::test(flavor = "current_thread")]
async fn the_quick_search_answers_what_a_scan_would() {
    let mut config = MockConfig::new(ProfileId::Oscar);
    config.patients = 3000;
    let server = MockServer::start_local(config).await.unwrap();
    let client = session(&server).await;
    let mut want: Vec<(String, String, i64)> = server.state().default_site().store.read(|d| {
        d.patients()
            .iter()
            .filter(|p| {
                !matches!(p.status.as_str(), "IN" | "DE" | "IC" | "ID" | "MO" | "FI")
                    && p.last_name.to_lowercase().starts_with('s')
            })
            .map(|p| {
                (
                    p.last_name.as_str().to_lowercase(),
                    p.first_name.as_str().to_lowercase(),
                    i64::from(p.id),
                )
            })
            .collect()
    });
    want.sort();
    assert!(
        want.len() > 10,
        "the seed has enough matches: {}",
        want.len()
    );
    let v = get_json(&server, &client, "/demographics/quickSearch?query=%20s,%20").await;
    assert_eq!(v["total"], want.len(), "{v}");
    let got: Vec<i64> = v["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["demographicNo"].as_i64().unwrap())
        .collect();
    let first_ten: Vec<i64> = want.iter().take(10).map(|w| w.2).collect();
    assert_eq!(got, first_ten);
}
