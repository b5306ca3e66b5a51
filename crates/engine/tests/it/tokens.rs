//! Deployment-wide access tokens: however many tasks and nodes ask at once, one fetch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use kefu_channels::SendError;
use kefu_channels::platform::{CachedToken, TokenCache, TokenFetch};
use kefu_domain::*;
use kefu_engine::platforms::StoreTokens;
use kefu_store::Store;

use crate::helpers::*;

/// A platform token endpoint that, like WeChat's, hands out a new token on every call.
#[derive(Default)]
struct CountingFetch {
    calls: AtomicUsize,
}

#[async_trait]
impl TokenFetch for CountingFetch {
    async fn fetch(&self) -> Result<CachedToken, SendError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::task::yield_now().await;
        Ok(CachedToken { token: format!("TOKEN-{n}"), expires_at: Timestamp(T0.0 + 7_000_000) })
    }
}

fn node(h: &Harness) -> StoreTokens {
    let store: Arc<dyn Store> = h.store.clone();
    let mut t = StoreTokens::new(store, h.clock.clone());
    t.wait_step = Duration::from_millis(5);
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_asking_at_once_fetch_one_token_and_share_it() {
    let h = harness().await;
    let (a, b) = (Arc::new(node(&h)), Arc::new(node(&h)));
    let fetch = Arc::new(CountingFetch::default());
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let t = if i % 2 == 0 { a.clone() } else { b.clone() };
            let f = fetch.clone();
            tokio::spawn(async move { t.get("wechat_oa:wx1", f.as_ref()).await.unwrap() })
        })
        .collect();
    let tokens: Vec<String> =
        futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(fetch.calls.load(Ordering::SeqCst), 1);
    assert!(tokens.iter().all(|t| t == "TOKEN-1"), "{tokens:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_replaced_once_even_if_both_nodes_saw_it_rejected() {
    let h = harness().await;
    let (a, b) = (node(&h), node(&h));
    let fetch = CountingFetch::default();
    assert_eq!(a.get("k", &fetch).await.unwrap(), "TOKEN-1");
    let (ra, rb) = tokio::join!(a.refresh("k", "TOKEN-1", &fetch), b.refresh("k", "TOKEN-1", &fetch));
    assert_eq!((ra.unwrap(), rb.unwrap()), ("TOKEN-2".to_owned(), "TOKEN-2".to_owned()));
    assert_eq!(fetch.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_expired_token_is_fetched_again() {
    let h = harness().await;
    let a = node(&h);
    let fetch = CountingFetch::default();
    a.get("k", &fetch).await.unwrap();
    h.clock.advance(Duration::from_secs(7_000));
    assert_eq!(a.get("k", &fetch).await.unwrap(), "TOKEN-2");
}
