//! Fresh databases per test, typed fixtures, and the `contract!` macro that runs a test on both backends.

use std::io::Write;
use std::str::FromStr;
use std::sync::Once;

use kefu_domain::*;
use kefu_store::*;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};

pub const T0: Timestamp = Timestamp(1_767_225_600_000); // 2026-01-01T00:00:00Z

pub struct TestDb {
    pub store: SqlStore,
    _dir: Option<tempfile::TempDir>,
}

fn cipher() -> SecretCipher {
    SecretCipher::new(&[7u8; 32])
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kefu.db").display());
    let store = SqlStore::connect(&url, cipher()).await.unwrap();
    store.migrate().await.unwrap();
    TestDb { store, _dir: Some(dir) }
}

static SKIP_NOTICE: Once = Once::new();

/// A store on a fresh schema of the PostgreSQL server in `KEFU_TEST_DATABASE_URL`, or `None`
/// (announced once, on the real stderr, past the test harness's capture) when it is unset.
pub async fn postgres() -> Option<TestDb> {
    let Ok(url) = std::env::var("KEFU_TEST_DATABASE_URL") else {
        SKIP_NOTICE.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "\n*** KEFU_TEST_DATABASE_URL is not set: PostgreSQL contract tests were SKIPPED ***\n"
            );
        });
        return None;
    };
    let schema = format!("kefu_test_{}", rand_suffix());
    let mut admin = PgConnection::connect(&url).await.expect("connect to KEFU_TEST_DATABASE_URL");
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).await.unwrap();
    admin.close().await.unwrap();
    let opts = PgConnectOptions::from_str(&url).unwrap().options([("search_path", schema.as_str())]);
    let store = SqlStore::connect_postgres(opts, cipher()).await.unwrap();
    store.migrate().await.unwrap();
    Some(TestDb { store, _dir: None })
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}_{:x}", nanos, std::process::id())
}

/// Declares one contract test as a module with an `on_sqlite` and an `on_postgres` case.
macro_rules! contract {
    ($name:ident, |$s:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($s: &kefu_store::SqlStore) -> anyhow::Result<()> $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() -> anyhow::Result<()> {
                let db = $crate::helpers::sqlite().await;
                run(&db.store).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() -> anyhow::Result<()> {
                let Some(db) = $crate::helpers::postgres().await else { return Ok(()) };
                run(&db.store).await
            }
        }
    };
}
pub(crate) use contract;

pub async fn webchat(store: &SqlStore, key: &str) -> Channel {
    store
        .create_channel(
            NewChannel {
                kind: ChannelKind::Webchat,
                key: key.into(),
                name: format!("官网 {key}"),
                settings: serde_json::json!({"welcome": "欢迎"}),
                secrets: serde_json::json!({"token": "s3cret"}),
            },
            T0,
        )
        .await
        .unwrap()
}

pub fn inbound(channel: &Channel, from: &str, key: Option<&str>, text: &str) -> Inbound {
    Inbound {
        channel_id: channel.id,
        external_id: from.into(),
        profile: Profile::default(),
        dedupe_key: key.map(str::to_owned),
        content: Content::text(text),
        received_at: T0,
        initial_state: ConversationState::Queued,
        initial_group: None,
        passive: false,
    }
}

pub async fn accept(store: &SqlStore, inb: Inbound) -> Accepted {
    match store.ingest(inb).await.unwrap() {
        IngestOutcome::Accepted(a) => *a,
        IngestOutcome::Duplicate(m) => panic!("unexpected duplicate {m:?}"),
    }
}

pub async fn agent(store: &SqlStore, username: &str) -> Agent {
    store
        .create_agent(
            NewAgent {
                username: username.into(),
                display_name: username.to_uppercase(),
                password_hash: "not-a-real-hash".into(),
                role: Role::Agent,
                capacity: 3,
                skill_groups: vec![],
            },
            T0,
        )
        .await
        .unwrap()
}

pub async fn reply(store: &SqlStore, conv: ConversationId, text: &str, key: Option<&str>) -> (Message, bool) {
    store
        .enqueue_outbound(NewOutbound {
            conversation_id: conv,
            sender: Sender::System,
            content: Content::text(text),
            dedupe_key: key.map(str::to_owned),
            created_at: T0,
        })
        .await
        .unwrap()
}
