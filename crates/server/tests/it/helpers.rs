//! Spawns kefu for a test and drives it like its users do: an agent over HTTP, a visitor over WebSocket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use kefu_domain::{ManualClock, Timestamp};
use kefu_server::{App, Config};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;

pub const T0: Timestamp = Timestamp(1_767_225_600_000);

/// Runs what the server would run in the background — due jobs and sends — until nothing is
/// left. Tests drive it (helpers call it while they wait for something), so they need no
/// sleeps and every step happens because the test let it.
#[derive(Clone)]
pub struct Driver {
    pub jobs: Arc<kefu_engine::JobRunner>,
    pub outbox: Arc<kefu_engine::OutboxWorker>,
}

impl Driver {
    pub async fn step(&self) -> usize {
        let mut total = 0;
        for _ in 0..50 {
            let n = self.jobs.run_pending().await.unwrap() + self.outbox.run_once().await.unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub driver: Driver,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn kefu_store::Store>,
    pub engine: Arc<kefu_engine::Engine>,
    pub webhooks: Arc<kefu_engine::webhooks::WebhookWorker>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config::load(None, &[]).unwrap();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.data_dir = dir.to_path_buf();
    config.database_url = String::new();
    config.max_body_bytes = 64 * 1024;
    // Tests run timeouts themselves (`engine.tick()`) after moving the injected clock.
    config.routing.tick_seconds = 0;
    // Nothing pings while a test moves the clock by hours; presence tests turn it back on.
    config.routing.presence_timeout_secs = 0;
    // Tests drive jobs and sends themselves (`Driver::step`, called while they wait).
    config.workers = false;
    // Webhook tests run the worker themselves (`webhooks.run_once()`).
    config.webhook_poll_ms = 0;
    // Tests run side by side: no fixed metrics port (the metrics test sets a token instead).
    config.metrics_bind = String::new();
    // Tests type faster than people; the limits have tests of their own.
    config.limits.visitor_burst = 1000;
    config
}

impl TestApp {
    /// kefu with the demo data set (agents agent1/agent2 "agent123", lead "lead123", admin "admin123").
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Arc::new(ManualClock::new(T0))).await
    }

    /// kefu plus the WeChat sandbox, sharing one clock, with the sandbox channels connected.
    pub async fn spawn_with_sandbox() -> (TestApp, kefu_sim::SimHandle) {
        TestApp::sandbox_configured(|_| {}).await
    }

    /// [`TestApp::spawn_with_sandbox`] with the configuration changed by `tweak`.
    pub async fn sandbox_configured(tweak: impl FnOnce(&mut Config)) -> (TestApp, kefu_sim::SimHandle) {
        let clock = Arc::new(ManualClock::new(T0));
        let mut cfg = kefu_sim::SimConfig::demo();
        cfg.callback_timeout_ms = 10_000;
        let sim = kefu_sim::start(cfg, clock.clone()).await.unwrap();
        let app = TestApp::spawn_configured(clock.clone(), tweak).await;
        let store = app.store.clone();
        kefu_server::seed::sandbox(store.as_ref(), clock.as_ref(), &sim, &app.url("")).await.unwrap();
        (app, sim)
    }

    /// kefu with its job runner and outbox worker running by themselves, as in production: for
    /// tests through a real browser, which cannot step the driver.
    pub async fn spawn_live() -> TestApp {
        TestApp::spawn_configured(Arc::new(ManualClock::new(T0)), |c| c.workers = true).await
    }

    pub async fn spawn_with(clock: Arc<ManualClock>) -> TestApp {
        TestApp::spawn_configured(clock, |_| {}).await
    }

    /// kefu with the demo data set and the test configuration changed by `tweak`.
    pub async fn spawn_configured(clock: Arc<ManualClock>, tweak: impl FnOnce(&mut Config)) -> TestApp {
        // Server logs show up in a failing test's output.
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn,kefu=info").try_init();
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        tweak(&mut config);
        let app = App::build(config, clock.clone()).await.unwrap();
        kefu_server::seed::demo(app.state.store.as_ref(), clock.as_ref()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let store = app.state.store.clone();
        let engine = app.state.engine.clone();
        let webhooks = app.state.webhooks.clone();
        let driver = Driver { jobs: app.state.jobs.clone(), outbox: app.worker().clone() };
        tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        TestApp { addr, driver, clock, store, engine, webhooks, _dir: dir, _stop: stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Runs every due job and send (see [`Driver`]).
    pub async fn run_pending(&self) -> usize {
        self.driver.step().await
    }

    /// The lifecycle tick, then the jobs it queued.
    pub async fn tick(&self) {
        self.engine.tick().await.unwrap();
        self.run_pending().await;
    }

    pub async fn agent(&self, user: &str, password: &str) -> AgentClient {
        let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let res = http
            .post(self.url("/api/auth/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "login as {user}");
        let session_cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("kefu_session="))
            .map(|c| c.split(';').next().unwrap().to_owned());
        let me: Value = res.json().await.unwrap();
        let csrf = me["csrf_token"].as_str().unwrap().to_owned();
        AgentClient { http, base: self.url(""), csrf, me, session_cookie, driver: self.driver.clone() }
    }

    pub async fn visitor(&self, id: &str) -> Visitor {
        Visitor::connect(self.addr, "web", id, self.driver.clone()).await
    }
}

pub struct AgentClient {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
    pub me: Value,
    pub session_cookie: Option<String>,
    pub driver: Driver,
}

impl AgentClient {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}/api{path}", self.base)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .put(format!("{}/api{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn conversation(&self, id: i64) -> Value {
        self.get(&format!("/conversations/{id}")).await.json::<Value>().await.unwrap()["conversation"].clone()
    }

    /// POSTs a raw body (an upload or an import) to an API path.
    pub async fn post_body(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        let url = format!("{}/api{path}", self.base);
        self.http.post(url).header("x-csrf-token", &self.csrf).body(body).send().await.unwrap()
    }

    /// Uploads the sandbox's sample PNG; returns `{url, sha256, …}`.
    pub async fn upload_png(&self) -> Value {
        self.post_body("/media", kefu_sim::SAMPLE_PNG.to_vec()).await.json().await.unwrap()
    }

    /// Imports a JSON-lines knowledge base; returns the import report.
    pub async fn import_kb(&self, jsonl: &'static str) -> Value {
        self.post_body("/kb/import?format=jsonl", jsonl).await.json().await.unwrap()
    }

    pub async fn conversations(&self) -> Vec<Value> {
        self.get("/conversations").await.json().await.unwrap()
    }

    pub async fn messages(&self, conv: i64) -> Vec<Value> {
        let res = self.get(&format!("/conversations/{conv}/messages")).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    pub async fn reply(&self, conv: i64, text: &str) -> Value {
        let res = self.post(&format!("/conversations/{conv}/messages"), json!({"text": text})).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "reply: {body}");
        body
    }
}

type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Visitor {
    ws: WsStream,
    pub hello: Value,
    driver: Driver,
}

/// The next text frame, stepping the driver while none has come.
async fn next_frame(ws: &mut WsStream, driver: &Driver, what: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        match tokio::time::timeout(Duration::from_millis(20), ws.next()).await {
            Ok(msg) => {
                if let Ws::Text(t) = msg.expect("socket closed").unwrap() {
                    return serde_json::from_str(&t).unwrap();
                }
            }
            Err(_) => {
                assert!(start.elapsed() < FRAME_WAIT, "no {what} in time");
                driver.step().await;
            }
        }
    }
}

/// How long a test waits for a frame before failing; a bound on a hang, not a timing assertion.
const FRAME_WAIT: Duration = Duration::from_secs(10);

impl Visitor {
    pub async fn connect(addr: SocketAddr, channel: &str, id: &str, driver: Driver) -> Visitor {
        let url = format!("ws://{addr}/webchat/ws?c={channel}&v={id}");
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut v = Visitor { ws, hello: Value::Null, driver };
        v.hello = v.next().await;
        assert_eq!(v.hello["type"], "hello");
        v
    }

    pub async fn send_frame(&mut self, frame: Value) {
        self.ws.send(Ws::Text(frame.to_string().into())).await.unwrap();
    }

    pub async fn next(&mut self) -> Value {
        next_frame(&mut self.ws, &self.driver, "frame").await
    }

    /// Sends a text and returns the server's ack.
    pub async fn say(&mut self, client_id: &str, text: &str) -> Value {
        self.send_frame(json!({"type": "send", "client_id": client_id, "text": text})).await;
        // kefu's own notices (leave-message, queue position) may arrive before the ack.
        loop {
            let frame = self.next().await;
            if frame["type"] == "ack" && frame["client_id"] == client_id {
                return frame;
            }
            assert_eq!(frame["type"], "message", "{frame}");
        }
    }

    /// The text of the next message shown to the visitor.
    pub async fn next_text(&mut self) -> String {
        self.next_message().await["content"]["text"].as_str().unwrap_or_default().to_owned()
    }

    /// The texts in the history the widget got on connecting.
    pub fn history_texts(&self) -> Vec<String> {
        let history = self.hello["history"].as_array().unwrap();
        history.iter().map(|m| m["content"]["text"].as_str().unwrap_or_default().to_owned()).collect()
    }

    pub async fn next_message(&mut self) -> Value {
        loop {
            let f = self.next().await;
            if f["type"] == "message" {
                return f["message"].clone();
            }
        }
    }
}

/// The agent's live feed, read the way the workbench reads it.
pub struct Feed {
    ws: WsStream,
    driver: Driver,
}

impl AgentClient {
    pub async fn feed(&self, addr: SocketAddr) -> Feed {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{addr}/api/ws").into_client_request().unwrap();
        let cookies = self.cookie_header(addr);
        req.headers_mut().insert("cookie", cookies.parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        Feed { ws, driver: self.driver.clone() }
    }

    fn cookie_header(&self, addr: SocketAddr) -> String {
        self.session_cookie.clone().unwrap_or_else(|| panic!("no session cookie for {addr}"))
    }
}

impl Feed {
    /// Pings as the workbench does, and waits until the server recorded it.
    pub async fn ping(&mut self) {
        self.ws.send(Ws::Text(r#"{"type":"ping"}"#.into())).await.unwrap();
        self.until(|e| e["type"] == "pong").await;
    }

    /// Waits for the server to close the feed; returns the close code.
    pub async fn closed(&mut self) -> u16 {
        let start = std::time::Instant::now();
        loop {
            match tokio::time::timeout(Duration::from_millis(20), self.ws.next()).await {
                Ok(Some(Ok(Ws::Close(frame)))) => return frame.map(|f| u16::from(f.code)).unwrap_or(1005),
                Ok(Some(Ok(_))) => {}
                Ok(other) => panic!("feed ended without a close frame: {other:?}"),
                Err(_) => {
                    assert!(start.elapsed() < FRAME_WAIT, "the feed was not closed in time");
                    self.driver.step().await;
                }
            }
        }
    }

    /// The next event for which `pred` holds; earlier ones are skipped.
    pub async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = next_frame(&mut self.ws, &self.driver, "event").await;
            if pred(&v) {
                return v;
            }
        }
    }
}

/// The texts a WeChat user received from kefu through the platform's send APIs.
pub fn wechat_texts(sim: &kefu_sim::SimHandle, user: &str) -> Vec<String> {
    sim.inbox(user)
        .iter()
        .filter(|r| r.msgtype == "text")
        .filter_map(|r| r.content["content"].as_str().or(r.content["Content"].as_str()).map(str::to_owned))
        .collect()
}

/// Every stored message of every conversation that `keep` selects, counted as a supervisor sees them.
pub async fn stored_messages(app: &TestApp, keep: impl Fn(&Value) -> bool) -> usize {
    let lead = app.agent("lead", "lead123").await;
    let convs: Vec<Value> = lead
        .get("/conversations?scope=all&state=bot,queued,assigned,leave_message,closed")
        .await
        .json()
        .await
        .unwrap();
    let mut n = 0;
    for c in convs {
        n += lead.messages(c["id"].as_i64().unwrap()).await.iter().filter(|m| keep(m)).count();
    }
    n
}

/// A local HTTP endpoint that counts the requests it gets (and answers with a PNG): the
/// "internal service" an attacker would like kefu to call. Returns a URL on it.
pub async fn trap(path: &str) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let seen = seen.clone();
        async move {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            kefu_sim::SAMPLE_PNG
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hits)
}
