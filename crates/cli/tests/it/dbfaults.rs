//! PostgreSQL drops every kefu connection again and again under a visitor's feet (what a
//! failover or a database restart does): kefu retries on the server side, the visitor resends
//! in order what was not acknowledged (as the widget does on `unavailable`), and every message
//! is stored exactly once, in the order it was written.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::cluster::{Cluster, missing};

type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const VISITOR: &str = "dbfault-visitor-0000000001";

async fn connect(base: &str) -> WsStream {
    loop {
        let url = format!("{}/webchat/ws?c=web&v={VISITOR}", base.replace("http://", "ws://"));
        if let Ok(Ok((mut ws, _))) =
            tokio::time::timeout(Duration::from_secs(5), tokio_tungstenite::connect_async(url)).await
            && let Ok(Some(Ok(Ws::Text(_hello)))) =
                tokio::time::timeout(Duration::from_secs(5), ws.next()).await
        {
            return ws;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Terminates every backend of this cluster, every 300 ms, until aborted; counts them.
async fn drop_connections(app: String, killed: std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let url = std::env::var("KEFU_TEST_DATABASE_URL").unwrap();
    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    loop {
        let rows = sqlx::query(
            "SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(&app)
        .fetch_all(&mut db)
        .await
        .unwrap();
        killed.fetch_add(rows.len(), std::sync::atomic::Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Sends one message until it is acknowledged; returns how often kefu said `unavailable`.
async fn send_until_acked(ws: &mut WsStream, base: &str, cid: &str, text: &str) -> usize {
    let mut refusals = 0;
    loop {
        let frame = json!({"type": "send", "client_id": cid, "text": text}).to_string();
        if ws.send(Ws::Text(frame.into())).await.is_err() {
            *ws = connect(base).await;
            continue;
        }
        loop {
            match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                Ok(Some(Ok(Ws::Text(t)))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["client_id"] != cid {
                        continue;
                    }
                    if v["type"] == "ack" {
                        return refusals;
                    }
                    assert_eq!(v["code"], "unavailable", "{v}");
                    refusals += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    break;
                }
                Ok(Some(Ok(_))) => {}
                _ => {
                    *ws = connect(base).await;
                    break;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_postgresql_keeps_dropping_connections_every_message_is_stored_once_and_in_order() {
    if missing().is_some() {
        return;
    }
    let c = Cluster::start(1).await;
    let killed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let killer = tokio::spawn(drop_connections(c.schema.clone(), killed.clone()));
    let mut ws = connect(&c.base).await;
    let (mut refusals, count) = (0, 40);
    let ids: Vec<String> = (0..count).map(|i| format!("dbfault-{i:04}")).collect();
    for (i, cid) in ids.iter().enumerate() {
        refusals += send_until_acked(&mut ws, &c.base, cid, &format!("第{i}条")).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    killer.abort();
    let killed = killed.load(std::sync::atomic::Ordering::Relaxed);
    let mut db = c.db().await;
    let rows = sqlx::query("SELECT dedupe_key FROM messages WHERE direction = 'inbound' ORDER BY id")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let stored: Vec<String> = rows.iter().map(|r| r.get("dedupe_key")).collect();
    let expected: Vec<String> = ids.iter().map(|cid| format!("web:{VISITOR}:{cid}")).collect();
    println!(
        "db faults: {killed} connections terminated, {refusals} sends refused as unavailable, {count} stored"
    );
    assert!(killed > 0, "the database really dropped connections");
    // The server retries a dropped connection itself; the visitor rarely has to resend.
    assert!(refusals * 4 < count, "{refusals} of {count} sends had to be resent by the visitor");
    assert_eq!(stored, expected, "each message once, in the order written");
    c.stop().await;
}
