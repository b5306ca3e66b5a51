//! The bot in conversations: keeps the matcher in step with the knowledge base, decides each
//! turn with the dialogue policy, and turns decisions into replies and hand-offs.

use std::sync::{Arc, RwLock};

use kefu_bot::intent::Intent;
use kefu_bot::policy::{BotMemory, Decision, HandOffReason, PolicyConfig, decide_with};
use kefu_bot::semantic::{Endpoint, FusedMatcher, HttpEmbedder, Phraser};
use kefu_bot::{Analyzer, Hit, Matcher};
use kefu_domain::{Channel, Choice, Content};
use kefu_store::Store;
use serde::{Deserialize, Serialize};

/// What the bot says in its own words; every channel can override `welcome`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BotConfig {
    pub enabled: bool,
    pub threshold: f32,
    pub suggest_floor: f32,
    pub max_misses: u32,
    pub greeting: String,
    pub thanks: String,
    pub fallback: String,
    pub suggest_head: String,
    pub suggest_tail: String,
    pub handoff: String,
    /// Optional OpenAI-compatible embeddings endpoint fused with the lexical match.
    pub embeddings: Endpoint,
    /// Optional OpenAI-compatible chat endpoint that rephrases answers, grounded in the entry.
    pub chat: Endpoint,
}

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            enabled: true,
            threshold: 0.82,
            suggest_floor: 0.05,
            max_misses: 2,
            greeting: "您好！我是智能客服，请直接描述您的问题。".into(),
            thanks: "不客气，还有其他问题随时问我～".into(),
            fallback: "抱歉，我没有理解您的问题。可以换个说法试试，或回复“人工”转人工客服。".into(),
            suggest_head: "猜你想问：".into(),
            suggest_tail: "请点击问题，或回复序号。".into(),
            handoff: "正在为您转接人工客服，请稍候…".into(),
            embeddings: Endpoint::default(),
            chat: Endpoint::default(),
        }
    }
}

/// The bot's outcome for one customer message.
#[derive(Debug, Clone, Default)]
pub struct Turn {
    pub replies: Vec<Content>,
    pub handoff: Option<HandOff>,
    pub memory: BotMemory,
}

#[derive(Debug, Clone)]
pub struct HandOff {
    pub reason: HandOffReason,
    /// Name of the skill group of the closest entry.
    pub group: Option<String>,
    pub best: Option<Hit>,
}

pub struct Bot {
    analyzer: Arc<Analyzer>,
    matcher: RwLock<(i64, Arc<Matcher>)>,
    semantic: RwLock<Option<Arc<FusedMatcher>>>,
    phraser: Option<Phraser>,
    pub config: BotConfig,
}

impl Bot {
    pub fn new(config: BotConfig) -> Self {
        let analyzer = Arc::new(Analyzer::default());
        let empty = Arc::new(Matcher::build(analyzer.clone(), &[]));
        let phraser = config.chat.enabled().then(|| Phraser::new(config.chat.clone()));
        Bot { analyzer, matcher: RwLock::new((-1, empty)), semantic: RwLock::new(None), phraser, config }
    }

    pub fn matcher(&self) -> Arc<Matcher> {
        self.matcher.read().unwrap_or_else(|p| p.into_inner()).1.clone()
    }

    /// Rebuilds the matcher if the knowledge base changed since the last build. Building runs
    /// on a blocking thread; the old matcher keeps answering meanwhile.
    pub async fn refresh(&self, store: &dyn Store) -> kefu_store::Result<bool> {
        let version = store.kb_version().await?;
        if self.matcher.read().unwrap_or_else(|p| p.into_inner()).0 == version {
            return Ok(false);
        }
        let entries = store.faq_entries().await?;
        let analyzer = self.analyzer.clone();
        let built = tokio::task::spawn_blocking(move || Matcher::build(analyzer, &entries))
            .await
            .map_err(|e| kefu_store::StoreError::Corrupt(format!("matcher build failed: {e}")))?;
        let built = Arc::new(built);
        *self.matcher.write().unwrap_or_else(|p| p.into_inner()) = (version, built.clone());
        if self.config.embeddings.enabled() {
            let embedder = Arc::new(HttpEmbedder::new(self.config.embeddings.clone()));
            let fused = match FusedMatcher::build(built, embedder).await {
                Ok(f) => Some(Arc::new(f)),
                Err(e) => {
                    tracing::warn!(error = %e, "semantic matching unavailable; using words only");
                    None
                }
            };
            *self.semantic.write().unwrap_or_else(|p| p.into_inner()) = fused;
        }
        Ok(true)
    }

    /// The best entries for `text`: fused with embeddings when configured and reachable.
    pub async fn search(&self, text: &str, k: usize) -> Vec<Hit> {
        let semantic = self.semantic.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(f) = semantic {
            match f.search(text, k).await {
                Ok(hits) => return hits,
                Err(e) => tracing::warn!(error = %e, "semantic search failed; using words only"),
            }
        }
        self.matcher().search(text, k)
    }

    /// The skill group the closest entries vote for (words only: this runs before a message is
    /// acknowledged, where a remote embeddings call has no place).
    pub fn group_for(&self, text: &str) -> Option<String> {
        kefu_bot::groups::suggest(&self.matcher(), text).map(|g| g.0)
    }

    /// Whether conversations on `channel` start with the bot.
    pub fn serves(&self, channel: &Channel) -> bool {
        self.config.enabled
            && channel.settings.get("bot").and_then(|v| v.as_bool()).unwrap_or(true)
            && !self.matcher().entries().is_empty()
    }

    fn policy(&self, channel: &Channel) -> PolicyConfig {
        let threshold = channel.settings.get("bot_threshold").and_then(|v| v.as_f64()).map(|t| t as f32);
        PolicyConfig {
            threshold: threshold.unwrap_or(self.config.threshold),
            suggest_floor: self.config.suggest_floor,
            max_misses: self.config.max_misses,
            suggestions: 3,
        }
    }

    /// Decides the reply to one customer text.
    pub async fn turn(&self, channel: &Channel, text: &str, memory: &BotMemory) -> Turn {
        let matcher = self.matcher();
        let policy = self.policy(channel);
        let hits = self.search(text, policy.suggestions.max(1)).await;
        let (decision, memory) = decide_with(&matcher, text, hits, memory, &policy);
        let c = &self.config;
        let mut turn = Turn { memory, ..Default::default() };
        match decision {
            Decision::Answer(hit) => {
                if let Some(e) = matcher.entry(&hit.entry_id) {
                    let answer = e.answer_for(channel.kind);
                    let text = match &self.phraser {
                        Some(p) => p.phrase(text, answer).await,
                        None => answer.to_owned(),
                    };
                    turn.replies.push(Content::text(text));
                }
            }
            Decision::Suggest(hits) => turn.replies.push(Content::Menu {
                head: c.suggest_head.clone(),
                choices: hits
                    .iter()
                    .map(|h| Choice { id: h.entry_id.clone(), text: h.question.clone() })
                    .collect(),
                tail: Some(c.suggest_tail.clone()),
            }),
            Decision::Fallback => turn.replies.push(Content::text(&c.fallback)),
            Decision::SmallTalk(Intent::Greeting) => turn.replies.push(Content::text(&c.greeting)),
            Decision::SmallTalk(_) => turn.replies.push(Content::text(&c.thanks)),
            Decision::HandOff { reason, group, best } => {
                turn.replies.push(Content::text(&c.handoff));
                turn.handoff = Some(HandOff { reason, group, best });
            }
        }
        turn
    }
}

impl HandOff {
    /// The note agents see when the conversation reaches them.
    pub fn note(&self) -> String {
        let why = match self.reason {
            HandOffReason::Requested => "客户要求人工服务",
            HandOffReason::Misses => "机器人连续未能回答",
        };
        let best = match &self.best {
            Some(h) => format!("；最接近的问题：{}（置信度 {:.2}）", h.question, h.confidence),
            None => String::new(),
        };
        let group = self.group.as_deref().map(|g| format!("；建议技能组：{g}")).unwrap_or_default();
        format!("机器人转人工：{why}{best}{group}。以上为机器人对话记录。")
    }
}
