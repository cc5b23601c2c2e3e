//! The server's own cost per request, without sockets: each bench case's
//! requests (credentials and all, produced exactly as the load generator
//! produces them) sent through the mock's router in process, one at a
//! time, on one thread. This is what to run under a profiler:
//!
//! `cargo bench --bench inproc [-- --cases NAME --requests N]`
//! `valgrind --tool=callgrind target/release/deps/inproc-* --cases oscar-oauth1-read --requests 2000`

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use emr_conformance::bench::cases;
use emr_mock::{MockConfig, MockServer};
use tower::ServiceExt;

/// The allocator the `emr-conformance` binary serves with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Raw HTTP/1.1 request bytes as an `http::Request`.
fn parse(raw: &[u8]) -> Request<Body> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let n = match req.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("the source wrote a bad request: {other:?}"),
    };
    let mut b = Request::builder()
        .method(req.method.unwrap_or("GET"))
        .uri(req.path.unwrap_or("/"));
    for h in req.headers.iter() {
        b = b.header(h.name, h.value);
    }
    let mut r = b
        .body(Body::from(raw[n..].to_vec()))
        .expect("a request http accepts");
    r.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    r
}

fn main() {
    let names: Vec<String> = arg("--cases").into_iter().collect();
    let requests: u64 = arg("--requests")
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let selected = cases::select(&names).expect("cases");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "in process, one thread, {requests} requests per case; load average {}",
        emr_conformance::bench::loadavg()
    );
    rt.block_on(async {
        for case in selected {
            let server = MockServer::start_local(MockConfig::new(case.profile))
                .await
                .expect("mock");
            let source = cases::source(&case, server.state(), server.addr())
                .await
                .expect("set up");
            let app = emr_mock::router(server.state().clone());
            let mut buf = Vec::new();
            let (mut client, mut served) = (0f64, 0f64);
            for i in 0..requests {
                buf.clear();
                let t = Instant::now();
                source.write(0, i, &mut buf);
                let req = parse(&buf);
                let t1 = Instant::now();
                let resp = match app.clone().oneshot(req).await {
                    Ok(r) => r,
                    Err(e) => match e {},
                };
                let status = resp.status().as_u16();
                let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
                served += t1.elapsed().as_secs_f64();
                client += (t1 - t).as_secs_f64();
                assert_eq!(status, case.expect, "{}", case.name);
            }
            println!(
                "{:<32} server {:>6.1} µs/request ({:>6.0}/s on one thread), client {:>5.1} µs/request",
                case.name,
                served * 1e6 / requests as f64,
                requests as f64 / served,
                client * 1e6 / requests as f64,
            );
            let _ = server.shutdown().await;
        }
    });
}
