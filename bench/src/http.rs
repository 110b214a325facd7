//! Over HTTP: the real router (`tessera_server::router::build`) served in process on a loopback port and
//! driven by one keep-alive client. Each number is the median of `requests` requests after one warm-up;
//! a request's time runs from sending it to having read the whole response body.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::header::CONTENT_TYPE;
use reqwest::RequestBuilder;
use tessera_core::Services;
use uuid::Uuid;

use crate::compare::{median, page_query};
use crate::data::{batch_body, Rng, TABLE};
use crate::report::HttpNumbers;
use crate::{BoxResult, BATCH};

/// Serves the API on `127.0.0.1:<free port>` for the duration of the measurements.
pub async fn measure(
    services: &Services,
    ids: &[Uuid],
    next_index: &mut u64,
    requests: usize,
) -> BoxResult<HttpNumbers> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // Requests carry an Owner's access token (JWT verification and the session check are part of the cost).
    let owner = tessera_core::auth::users::NewUser {
        username: format!("bench-{}", Uuid::now_v7().simple()),
        password: Some("correct horse battery staple 42".into()),
        ..Default::default()
    };
    let system = tessera_core::events::Actor::system();
    services.auth().create_owner(&system, &owner).await?;
    let login = services.auth().login(&system, &owner.username, "correct horse battery staple 42").await?;
    let app = tessera_server::router::build(services.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
    });
    let numbers = run(addr, ids, next_index, requests, &login.access_token).await;
    server.abort();
    numbers
}

async fn run(
    addr: SocketAddr,
    ids: &[Uuid],
    next_index: &mut u64,
    requests: usize,
    access_token: &str,
) -> BoxResult<HttpNumbers> {
    // No proxy: a proxy from the environment must not sit between the client and loopback.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {access_token}").parse()?);
    let client = reqwest::Client::builder().no_proxy().default_headers(headers).build()?;
    let base = format!("http://{addr}/api/v1/data/{TABLE}");

    let query_url = format!("{base}/query");
    let query = serde_json::to_vec(&page_query(None))?;
    let first_page = timed(requests, || {
        Ok(client.post(query_url.as_str()).header(CONTENT_TYPE, "application/json").body(query.clone()))
    })
    .await?;

    let mut rng = Rng::new(0x4242);
    let point_read = timed(requests, || {
        let id = ids.get(rng.position(ids.len())).copied().ok_or("no rows loaded")?;
        Ok(client.get(format!("{base}/{id}")))
    })
    .await?;

    let batch_url = format!("{base}/batch");
    let size = BATCH as u64;
    let batch = timed(requests, || {
        let from = *next_index;
        *next_index += size;
        let body = serde_json::to_vec(&batch_body(from, from + size))?;
        Ok(client.post(batch_url.as_str()).header(CONTENT_TYPE, "application/json").body(body))
    })
    .await?;

    Ok(HttpNumbers { requests, first_page, point_read, batch })
}

/// Sends one warm-up request and then `requests` more, each made by `make` (outside the timing); answers
/// the median time.
async fn timed<F>(requests: usize, mut make: F) -> BoxResult<Duration>
where
    F: FnMut() -> BoxResult<RequestBuilder>,
{
    let mut times = Vec::with_capacity(requests);
    for i in 0..=requests {
        let request = make()?;
        let elapsed = send(request).await?;
        if i > 0 {
            times.push(elapsed);
        }
    }
    Ok(median(times))
}

/// Sends `request` and reads the whole body; a non-2xx answer is an error carrying the body.
async fn send(request: RequestBuilder) -> BoxResult<Duration> {
    let start = Instant::now();
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    let elapsed = start.elapsed();
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(elapsed)
}
