//! Optional semantic backends (off by default): an OpenAI-compatible embeddings endpoint (a
//! self-hosted bge-m3, say) fused with the lexical score, and an OpenAI-compatible chat
//! endpoint that may rephrase an answer, strictly grounded in the matched entry.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::calibrate::{Calibrator, FEATURES};
use crate::index::{Exclude, Field};
use crate::matcher::{Hit, Matcher, Probe};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("semantic backend: {0}")]
pub struct SemanticError(pub String);

#[async_trait]
pub trait Embedder: Send + Sync {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, SemanticError>;
}

/// Where an OpenAI-compatible endpoint is and how to call it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Endpoint {
    /// Base URL up to `/v1`, e.g. `http://127.0.0.1:8000/v1`; empty = off.
    pub url: String,
    pub model: String,
    pub api_key: String,
    pub timeout_ms: u64,
}

impl Endpoint {
    pub fn enabled(&self) -> bool {
        !self.url.is_empty()
    }

    fn client(&self) -> reqwest::Client {
        let timeout = Duration::from_millis(if self.timeout_ms == 0 { 5_000 } else { self.timeout_ms });
        reqwest::Client::builder().timeout(timeout).build().unwrap_or_default()
    }

    async fn post(&self, http: &reqwest::Client, path: &str, body: Value) -> Result<Value, SemanticError> {
        let mut req = http.post(format!("{}{path}", self.url.trim_end_matches('/'))).json(&body);
        if !self.api_key.is_empty() {
            req = req.bearer_auth(&self.api_key);
        }
        let res = req.send().await.map_err(|e| SemanticError(e.to_string()))?;
        if !res.status().is_success() {
            return Err(SemanticError(format!("HTTP {}", res.status())));
        }
        res.json().await.map_err(|e| SemanticError(e.to_string()))
    }
}

pub struct HttpEmbedder {
    endpoint: Endpoint,
    http: reqwest::Client,
}

impl HttpEmbedder {
    pub fn new(endpoint: Endpoint) -> Self {
        let http = endpoint.client();
        HttpEmbedder { endpoint, http }
    }
}

#[async_trait]
impl Embedder for HttpEmbedder {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, SemanticError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(64) {
            let v = self
                .endpoint
                .post(&self.http, "/embeddings", json!({ "model": self.endpoint.model, "input": chunk }))
                .await?;
            let mut data: Vec<(usize, Vec<f32>)> = v["data"]
                .as_array()
                .ok_or_else(|| SemanticError("no data in the embeddings response".into()))?
                .iter()
                .map(|d| {
                    let vec = d["embedding"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect());
                    (d["index"].as_u64().unwrap_or(0) as usize, vec.unwrap_or_default())
                })
                .collect();
            data.sort_by_key(|d| d.0);
            if data.len() != chunk.len() {
                return Err(SemanticError("the embeddings response has the wrong length".into()));
            }
            out.extend(data.into_iter().map(|d| normalized(d.1)));
        }
        Ok(out)
    }
}

fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// How much the semantic similarity counts in the fused ranking.
const ALPHA: f32 = 0.5;
/// Lexical candidates considered for fusion, besides the best semantic ones.
const POOL: usize = 10;

/// A lexical matcher with question embeddings fused in, and its own calibration.
pub struct FusedMatcher {
    lexical: Arc<Matcher>,
    embedder: Arc<dyn Embedder>,
    /// Per question document: (entry, document, unit vector).
    vectors: Vec<(u32, u32, Vec<f32>)>,
    calibrator: Calibrator,
}

struct Candidate {
    entry: u32,
    fused: f32,
    cos: f32,
}

impl FusedMatcher {
    /// Embeds every question and calibrates the fused confidence with the same self-quiz as
    /// the lexical matcher.
    pub async fn build(
        lexical: Arc<Matcher>,
        embedder: Arc<dyn Embedder>,
    ) -> Result<FusedMatcher, SemanticError> {
        let docs: Vec<(u32, u32, String)> = lexical.question_docs();
        let texts: Vec<String> = docs.iter().map(|d| d.2.clone()).collect();
        let embedded = embedder.embed(&texts).await?;
        let vectors = docs.into_iter().zip(embedded).map(|((e, d, _), v)| (e, d, v)).collect();
        let mut m = FusedMatcher { lexical, embedder, vectors, calibrator: Calibrator::untrained() };
        let probes = m.lexical.probes();
        let texts: Vec<String> = probes.iter().map(|p| p.text.clone()).collect();
        let qv = m.embedder.embed(&texts).await?;
        let samples = probes.iter().zip(&qv).map(|(p, v)| m.outcome(p, v)).collect::<Vec<_>>();
        m.calibrator = Calibrator::fit(&samples);
        Ok(m)
    }

    fn candidates(&self, text: &str, qv: &[f32], exclude: Exclude) -> Vec<Candidate> {
        let lex = self.lexical.scored(text, POOL, exclude);
        let top_lex = lex.first().map(|s| s.score).unwrap_or(0.0).max(1e-6);
        let mut best_cos: std::collections::HashMap<u32, f32> = std::collections::HashMap::new();
        for (e, d, v) in &self.vectors {
            if exclude == Exclude::Doc(*d) || exclude == Exclude::Entry(*e) {
                continue;
            }
            let c = dot(qv, v);
            let slot = best_cos.entry(*e).or_insert(f32::MIN);
            *slot = slot.max(c);
        }
        let mut pool: Vec<u32> = lex.iter().map(|s| s.entry).collect();
        let mut by_cos: Vec<(u32, f32)> = best_cos.iter().map(|(e, c)| (*e, *c)).collect();
        by_cos.sort_by(|a, b| b.1.total_cmp(&a.1));
        pool.extend(by_cos.iter().take(POOL).map(|(e, _)| *e));
        pool.sort_unstable();
        pool.dedup();
        let mut out: Vec<Candidate> = pool
            .into_iter()
            .map(|entry| {
                let lexical = lex.iter().find(|s| s.entry == entry).map(|s| s.score / top_lex).unwrap_or(0.0);
                let cos = best_cos.get(&entry).copied().unwrap_or(0.0).max(0.0);
                Candidate { entry, fused: (1.0 - ALPHA) * lexical + ALPHA * cos, cos }
            })
            .collect();
        out.sort_by(|a, b| b.fused.total_cmp(&a.fused).then(a.entry.cmp(&b.entry)));
        out
    }

    fn features(c: &[Candidate], i: usize) -> [f32; FEATURES] {
        let next = c.get(i + 1);
        let fused_margin = next.map(|n| c[i].fused - n.fused).unwrap_or(c[i].fused);
        let cos_margin = next.map(|n| c[i].cos - n.cos).unwrap_or(c[i].cos);
        [c[i].fused, fused_margin, c[i].cos, cos_margin, 0.0]
    }

    fn outcome(&self, p: &Probe, qv: &[f32]) -> ([f32; FEATURES], bool) {
        let c = self.candidates(&p.text, qv, p.exclude);
        match c.first() {
            Some(top) => (Self::features(&c, 0), top.entry == p.want && p.exclude != Exclude::Entry(p.want)),
            None => ([0.0; FEATURES], false),
        }
    }

    pub async fn search(&self, text: &str, k: usize) -> Result<Vec<Hit>, SemanticError> {
        let qv = self.embedder.embed(&[text.to_owned()]).await?.pop().unwrap_or_default();
        let c = self.candidates(text, &qv, Exclude::Nothing);
        Ok((0..c.len().min(k))
            .map(|i| {
                self.lexical.hit(c[i].entry, c[i].fused, self.calibrator.confidence(&Self::features(&c, i)))
            })
            .collect())
    }

    pub fn lexical(&self) -> &Arc<Matcher> {
        &self.lexical
    }
}

/// Only the question documents of a matcher, for embedding.
pub(crate) fn is_question(f: Field) -> bool {
    f == Field::Question
}

/// Rephrases answers with a chat model, but only ever within what the entry says.
pub struct Phraser {
    endpoint: Endpoint,
    http: reqwest::Client,
}

const SYSTEM_PROMPT: &str = "你是客服助手。请把给定的标准答案改写得更自然、贴合客户的问法。\
只能使用标准答案中的信息：不得添加、推测或修改任何事实、数字、金额、时间、网址或步骤；\
如果无法做到，就原样输出标准答案。只输出改写后的答案。";

impl Phraser {
    pub fn new(endpoint: Endpoint) -> Self {
        let http = endpoint.client();
        Phraser { endpoint, http }
    }

    /// The rephrased answer, or the original when the model is unavailable or strays from it.
    pub async fn phrase(&self, question: &str, answer: &str) -> String {
        let body = json!({
            "model": self.endpoint.model,
            "temperature": 0.2,
            "messages": [
                { "role": "system", "content": SYSTEM_PROMPT },
                { "role": "user", "content": format!("客户的问题：{question}\n标准答案：{answer}") },
            ],
        });
        match self.endpoint.post(&self.http, "/chat/completions", body).await {
            Ok(v) => match v["choices"][0]["message"]["content"].as_str() {
                Some(text) if grounded(text.trim(), answer) => text.trim().to_owned(),
                _ => answer.to_owned(),
            },
            Err(_) => answer.to_owned(),
        }
    }
}

/// Every number and link in the rewrite must appear in the source, and it may not balloon.
pub fn grounded(rewrite: &str, source: &str) -> bool {
    if rewrite.is_empty() || rewrite.chars().count() > source.chars().count() * 2 + 40 {
        return false;
    }
    let tokens = |s: &str| -> Vec<String> {
        let mut out = vec![];
        let mut cur = String::new();
        for c in s.chars() {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | ':' | '%') {
                cur.push(c);
            } else if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out.into_iter().filter(|t| t.chars().any(|c| c.is_ascii_digit()) || t.contains("http")).collect()
    };
    let known = tokens(source);
    tokens(rewrite).iter().all(|t| known.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_may_not_invent_numbers_links_or_length() {
        let src = "退款审核通过后1-3个工作日原路退回，详见 https://a.example/refund 。";
        assert!(grounded("审核通过后，钱会在1-3个工作日内原路退回给您，详见 https://a.example/refund", src));
        assert!(!grounded("审核通过后5个工作日退回。", src));
        assert!(!grounded("详见 https://evil.example", src));
        assert!(!grounded("", src));
        assert!(!grounded(&"很长".repeat(100), src));
    }
}
