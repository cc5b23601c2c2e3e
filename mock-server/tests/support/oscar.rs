//! Sessions on an OSCAR-family mock, for the integration tests.

use emr_mock::store::seed::accounts::{OSCAR_PASSWORD, OSCAR_PIN, OSCAR_USER};
use emr_mock::MockServer;

/// A client logged in as the seeded doctor, its session cookie kept: the
/// mock's `/ws/rs` answers it.
pub async fn session(server: &MockServer) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .post(format!("{}/oscar/login.do", server.base_url()))
        .form(&[
            ("username", OSCAR_USER),
            ("password", OSCAR_PASSWORD),
            ("pin", OSCAR_PIN),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 302, "the login is refused");
    client
}
