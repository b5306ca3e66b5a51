//! End-to-end web chat on a real cluster (PostgreSQL, NATS, nginx, `kefu serve` processes):
//! throughput from a visitor's message through its acknowledgement to the supervisor's live
//! event on 1 node and on 3 nodes, and the latency of an event to a workbench on the visitor's
//! own node against one on another node. Interleaved rounds; medians; ratios to the same run.
//!
//! `KEFU_TEST_DATABASE_URL=… KEFU_TEST_NATS_URL=… cargo bench -p kefu-cli --bench cluster`

#[path = "../tests/it/cluster.rs"]
#[allow(dead_code)]
mod cluster;

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;

use cluster::Cluster;

type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sizes, overridable for a quick look: `KEFU_BENCH_VISITORS`, `KEFU_BENCH_MESSAGES`, `KEFU_BENCH_PINGS`.
fn size(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn ws(url: &str, cookie: Option<&str>) -> WsStream {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().unwrap();
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

fn json_of(f: Ws) -> Option<Value> {
    if let Ws::Text(t) = f { serde_json::from_str(&t).ok() } else { None }
}

/// A supervisor (sees every conversation); returns their session cookie.
async fn supervisor(c: &Cluster) -> String {
    let (http, csrf) = c.admin().await;
    let body = json!({"username": "bench", "password": "bench-pass-1", "display_name": "压测",
        "role": "supervisor", "capacity": 1});
    let res =
        http.post(format!("{}/api/agents", c.base)).header("x-csrf-token", &csrf).json(&body).send().await;
    assert_eq!(res.unwrap().status(), 200);
    c.session_cookie("bench", "bench-pass-1").await
}

/// What the supervisor's feed showed.
struct Shown {
    /// When the last customer message arrived.
    last: Instant,
    messages: usize,
    /// `resync` frames: the feed fell behind and a workbench would reload.
    resyncs: usize,
}

/// Counts customer messages the supervisor's feed shows until `total` were seen, or until it
/// has been quiet for 5 s (events dropped for a slow socket are reported, not waited for).
async fn count_events(mut feed: WsStream, total: usize) -> Shown {
    let mut shown = Shown { last: Instant::now(), messages: 0, resyncs: 0 };
    while shown.messages < total {
        let Ok(Some(Ok(f))) = tokio::time::timeout(Duration::from_secs(5), feed.next()).await else { break };
        match json_of(f) {
            Some(v) if v["type"] == "message_created" && v["message"]["direction"] == "inbound" => {
                shown.messages += 1;
                shown.last = Instant::now();
            }
            Some(v) if v["type"] == "resync" => shown.resyncs += 1,
            _ => {}
        }
    }
    shown
}

/// One visitor sending its messages one at a time, each after the previous one's ack.
async fn visitor(url: String) {
    let mut w = ws(&url, None).await;
    let _hello = w.next().await;
    for i in 0..size("KEFU_BENCH_MESSAGES", 20) {
        let frame = json!({"type": "send", "client_id": format!("bench-msg-{i:04}"), "text": format!("压测消息 {i}")});
        w.send(Ws::Text(frame.to_string().into())).await.unwrap();
        loop {
            let v = json_of(w.next().await.unwrap().unwrap());
            if v.is_some_and(|v| v["type"] == "ack") {
                break;
            }
        }
    }
}

/// Messages per second from the first send to the last event on the supervisor's screen.
async fn throughput(nodes: usize, round: usize) -> f64 {
    let c = Cluster::start(nodes).await;
    let cookie = supervisor(&c).await;
    let ws_base = c.base.replace("http://", "ws://");
    let feed = ws(&format!("{ws_base}/api/ws"), Some(&cookie)).await;
    let total = size("KEFU_BENCH_VISITORS", 32) * size("KEFU_BENCH_MESSAGES", 20);
    let counted = tokio::spawn(count_events(feed, total));
    let start = Instant::now();
    let mut all = tokio::task::JoinSet::new();
    for v in 0..size("KEFU_BENCH_VISITORS", 32) {
        all.spawn(visitor(format!("{ws_base}/webchat/ws?c=web&v=bench-{round}-{nodes}-{v:020}")));
    }
    while all.join_next().await.is_some() {}
    let acked = start.elapsed();
    let shown = counted.await.unwrap();
    c.stop().await;
    if shown.messages < total || shown.resyncs > 0 {
        println!(
            "  {nodes} node(s): the feed showed {} of {total} messages live, {} resync(s); all acked after {acked:?}",
            shown.messages, shown.resyncs
        );
    }
    shown.messages as f64 / (shown.last - start).as_secs_f64()
}

/// Waits on `feed` for the customer message `text`.
async fn until_text(feed: &mut WsStream, text: &str) {
    loop {
        let f = tokio::time::timeout(Duration::from_secs(30), feed.next()).await.unwrap().unwrap().unwrap();
        if let Some(e) = json_of(f)
            && e["type"] == "message_created"
            && e["message"]["content"]["text"] == text
        {
            return;
        }
    }
}

/// Event latency to a feed on the visitor's node and to one on another node, in ms.
async fn latency() -> (Vec<f64>, Vec<f64>) {
    let c = Cluster::start(3).await;
    let cookie = supervisor(&c).await;
    let direct = |i: usize| c.node_base(i).replace("http://", "ws://");
    let mut same = ws(&format!("{}/api/ws", direct(0)), Some(&cookie)).await;
    let mut other = ws(&format!("{}/api/ws", direct(1)), Some(&cookie)).await;
    let mut v = ws(&format!("{}/webchat/ws?c=web&v=bench-latency-0000000001", direct(0)), None).await;
    let _hello = v.next().await;
    let (mut a, mut b) = (vec![], vec![]);
    for i in 0..size("KEFU_BENCH_PINGS", 300) {
        let text = format!("延迟 {i}");
        let frame = json!({"type": "send", "client_id": format!("latency-{i:04}"), "text": text});
        let sent = Instant::now();
        v.send(Ws::Text(frame.to_string().into())).await.unwrap();
        // Both feeds read concurrently, so neither waits for the other.
        let t_same = async {
            until_text(&mut same, &text).await;
            sent.elapsed()
        };
        let t_other = async {
            until_text(&mut other, &text).await;
            sent.elapsed()
        };
        let (x, y) = tokio::join!(t_same, t_other);
        a.push(x.as_secs_f64() * 1000.0);
        b.push(y.as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.stop().await;
    (a, b)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|x, y| x.total_cmp(y));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn report() {
    let (mut one, mut three) = (vec![], vec![]);
    for round in 0..3 {
        one.push(throughput(1, round).await);
        three.push(throughput(3, round).await);
        println!("round {round}: 1 node {:.0} msg/s, 3 nodes {:.0} msg/s", one[round], three[round]);
    }
    let (o, t) = (pct(&mut one, 0.5), pct(&mut three, 0.5));
    let (v, m) = (size("KEFU_BENCH_VISITORS", 32), size("KEFU_BENCH_MESSAGES", 20));
    println!("\nweb chat, {v} visitors x {m} messages, visitor -> ack -> supervisor's event (median of 3)");
    println!("| nodes | messages/s | ratio |\n|---|---|---|");
    println!("| 1 (baseline) | {o:.0} | 1x |\n| 3 | {t:.0} | {:.2}x |", t / o);
    let (mut same, mut cross) = latency().await;
    let (s50, s99) = (pct(&mut same, 0.5), pct(&mut same, 0.99));
    let (c50, c99) = (pct(&mut cross, 0.5), pct(&mut cross, 0.99));
    println!("\nevent latency, visitor message -> workbench event ({} messages)", same.len());
    println!("| workbench on | p50 | p99 | p50 ratio | p99 ratio |\n|---|---|---|---|---|");
    println!("| the visitor's node (baseline) | {s50:.2} ms | {s99:.2} ms | 1x | 1x |");
    println!(
        "| another node (via NATS) | {c50:.2} ms | {c99:.2} ms | {:.2}x | {:.2}x |",
        c50 / s50,
        c99 / s99
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    rt.block_on(async {
        if cluster::missing().is_none() {
            report().await;
        }
    });
}
