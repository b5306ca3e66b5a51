//! What the change-feed triggers cost on ingest: the same messages ingested into a fresh
//! database with the triggers and into one with them dropped, interleaved three times, by one
//! writer and by eight at once, on SQLite and (with `KEFU_TEST_DATABASE_URL`) PostgreSQL. Prints the median per message and
//! the ratio. `cargo run --release -p kefu-store --example feed_cost`

use std::str::FromStr;
use std::time::{Duration, Instant};

use kefu_domain::*;
use kefu_store::*;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor};

const VISITORS: usize = 100;
const EACH: usize = 10;
const SQLITE_TRIGGERS: [&str; 6] = [
    "changes_customer_created",
    "changes_conversation_created",
    "changes_conversation_state",
    "changes_message_created",
    "changes_customer_merged",
    "changes_customer_unmerged",
];
const PG_TRIGGERS: [(&str, &str); 4] = [
    ("changes_customer_created", "customers"),
    ("changes_conversations", "conversations"),
    ("changes_message_created", "messages"),
    ("changes_merges", "customer_merges"),
];

/// Wall time per message with `writers` visitors' streams ingested at once.
async fn ingest_all(store: &SqlStore, writers: usize) -> Duration {
    let new = NewChannel {
        kind: ChannelKind::Webchat,
        key: "web".into(),
        name: "web".into(),
        settings: serde_json::json!({}),
        secrets: serde_json::json!({}),
    };
    let ch = store.create_channel(new, Timestamp(0)).await.unwrap();
    let one = |w: usize| async move {
        for i in 0..EACH {
            for v in (w..VISITORS).step_by(writers) {
                let inb = Inbound {
                    channel_id: ch.id,
                    external_id: format!("visitor-{v}"),
                    profile: Profile::default(),
                    dedupe_key: Some(format!("{v}-{i}")),
                    content: Content::text("你好，我想查一下话费"),
                    received_at: Timestamp(1),
                    initial_state: ConversationState::Bot,
                    initial_group: None,
                    passive: false,
                };
                store.ingest(inb).await.unwrap();
            }
        }
    };
    let start = Instant::now();
    futures::future::join_all((0..writers).map(one)).await;
    start.elapsed() / u32::try_from(VISITORS * EACH).unwrap()
}

async fn sqlite(with_triggers: bool, writers: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kefu.db").display());
    let store = SqlStore::connect(&url, SecretCipher::new(&[7; 32])).await.unwrap();
    store.migrate().await.unwrap();
    if !with_triggers {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for t in SQLITE_TRIGGERS {
            c.execute(sqlx::AssertSqlSafe(format!("DROP TRIGGER {t}"))).await.unwrap();
        }
    }
    let d = ingest_all(&store, writers).await;
    store.close().await;
    d
}

async fn postgres(url: &str, with_triggers: bool, n: usize, writers: usize) -> Duration {
    let schema = format!("kefu_feed_cost_{}_{n}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).await.unwrap();
    let opts = PgConnectOptions::from_str(url).unwrap().options([("search_path", schema.as_str())]);
    let store = SqlStore::connect_postgres(opts, SecretCipher::new(&[7; 32])).await.unwrap();
    store.migrate().await.unwrap();
    if !with_triggers {
        for (t, table) in PG_TRIGGERS {
            admin
                .execute(sqlx::AssertSqlSafe(format!("DROP TRIGGER {t} ON {schema}.{table}")))
                .await
                .unwrap();
        }
    }
    let d = ingest_all(&store, writers).await;
    store.close().await;
    admin.execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).await.unwrap();
    d
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn report(backend: &str, writers: usize, with: Vec<Duration>, without: Vec<Duration>) {
    let (w, wo) = (median(with), median(without));
    println!(
        "{backend:<10} {writers} writer(s), wall time per message: without triggers {:>7.1} µs (1×), with the change feed {:>7.1} µs ({:.2}×)",
        wo.as_secs_f64() * 1e6,
        w.as_secs_f64() * 1e6,
        w.as_secs_f64() / wo.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let pg = std::env::var("KEFU_TEST_DATABASE_URL").ok();
    for writers in [1, 8] {
        let (mut with, mut without) = (vec![], vec![]);
        for _ in 0..3 {
            without.push(sqlite(false, writers).await);
            with.push(sqlite(true, writers).await);
        }
        report("SQLite", writers, with, without);
        if let Some(url) = &pg {
            let (mut with, mut without) = (vec![], vec![]);
            for n in 0..3 {
                without.push(postgres(url, false, 2 * n, writers).await);
                with.push(postgres(url, true, 2 * n + 1, writers).await);
            }
            report("PostgreSQL", writers, with, without);
        }
    }
}
