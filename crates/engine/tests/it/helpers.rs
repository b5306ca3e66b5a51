//! A fresh engine per test on a temporary SQLite database, with a scriptable channel sender.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kefu_channels::{Outbound, SendError, Sent};
use kefu_domain::*;
use kefu_engine::*;
use kefu_store::*;

pub const T0: Timestamp = Timestamp(1_767_225_600_000);

/// A channel sender whose answers the test scripts; it records every message it was given.
/// It stands in for a platform only in these worker tests; platform behaviour is tested
/// against the simulators.
#[derive(Default)]
pub struct ScriptedSender {
    pub answers: Mutex<VecDeque<Result<Sent, SendError>>>,
    pub sent: Mutex<Vec<(String, Message)>>,
}

impl ScriptedSender {
    pub fn then(&self, answer: Result<Sent, SendError>) -> &Self {
        self.answers.lock().unwrap().push_back(answer);
        self
    }

    pub fn texts(&self) -> Vec<String> {
        self.sent.lock().unwrap().iter().filter_map(|(_, m)| m.content.plain_text()).collect()
    }
}

#[async_trait]
impl Outbound for ScriptedSender {
    async fn send(&self, _c: &Channel, to: &Identity, m: &Message) -> Result<Sent, SendError> {
        self.sent.lock().unwrap().push((to.external_id.clone(), m.clone()));
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Ok(Sent { platform_msg_id: None, status: DeliveryStatus::Sent }))
    }
}

pub struct Harness {
    pub engine: Arc<Engine>,
    pub jobs: Arc<JobRunner>,
    pub bus: Arc<dyn Bus>,
    pub worker: OutboxWorker,
    pub clock: Arc<ManualClock>,
    pub sender: Arc<ScriptedSender>,
    pub channel: Channel,
    pub store: Arc<SqlStore>,
    _dir: tempfile::TempDir,
}

pub fn policy() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_secs(2),
        max_delay: Duration::from_secs(60),
        max_attempts: 3,
        lease: Duration::from_secs(60),
        send_timeout: Duration::from_secs(5),
        poll: Duration::from_secs(1),
    }
}

pub async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kefu.db").display());
    let store = Arc::new(SqlStore::connect(&url, SecretCipher::new(&[1; 32])).await.unwrap());
    store.migrate().await.unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let bus: Arc<dyn Bus> = Arc::new(InProcBus::default());
    let sender = Arc::new(ScriptedSender::default());
    let engine = Arc::new(Engine::new(store.clone(), bus.clone(), clock.clone()));
    let jobs =
        JobRunner::new(engine.clone(), kefu_engine::handlers::Handlers::new(None), JobPolicy::default());
    let bus_handle = bus.clone();
    let senders = Senders::default().with(ChannelKind::Webchat, sender.clone());
    let worker =
        OutboxWorker::new(store.clone(), bus, clock.clone(), senders, policy(), engine.outbox_wake());
    let channel = store
        .create_channel(
            NewChannel {
                kind: ChannelKind::Webchat,
                key: "site".into(),
                name: "官网".into(),
                settings: serde_json::json!({}),
                secrets: serde_json::json!({}),
            },
            T0,
        )
        .await
        .unwrap();
    Harness { engine, jobs, bus: bus_handle, worker, clock, sender, channel, store, _dir: dir }
}

impl Harness {
    /// Another engine on the same database, with its own job runner: a restart, or a second node.
    pub fn restart(&self) -> (Arc<Engine>, Arc<JobRunner>) {
        let engine = Arc::new(Engine::new(self.store.clone(), self.bus.clone(), self.clock.clone()));
        let jobs =
            JobRunner::new(engine.clone(), kefu_engine::handlers::Handlers::new(None), JobPolicy::default());
        (engine, jobs)
    }

    /// Runs every due job (the bot's turns, routing, timeouts), as a server's runner would.
    pub async fn run_pending(&self) -> usize {
        self.jobs.run_pending().await.unwrap()
    }

    /// The lifecycle tick, then the jobs it queued.
    pub async fn tick(&self) {
        self.engine.tick().await.unwrap();
        self.run_pending().await;
    }

    pub async fn customer_says(&self, visitor: &str, key: &str, text: &str) -> Accepted {
        let inbound = Inbound {
            channel_id: self.channel.id,
            external_id: visitor.into(),
            profile: Profile::default(),
            dedupe_key: Some(key.into()),
            content: Content::text(text),
            received_at: self.clock.now(),
            initial_state: ConversationState::Queued,
            initial_group: None,
            passive: false,
        };
        match self.engine.receive(inbound).await.unwrap() {
            IngestOutcome::Accepted(a) => *a,
            IngestOutcome::Duplicate(m) => panic!("duplicate {m:?}"),
        }
    }

    pub async fn agent(&self, username: &str, role: Role) -> Agent {
        self.store
            .create_agent(
                NewAgent {
                    username: username.into(),
                    display_name: username.into(),
                    password_hash: "x".into(),
                    role,
                    capacity: 5,
                    skill_groups: vec![],
                },
                T0,
            )
            .await
            .unwrap()
    }
}
