//! Guards against abuse that need no database: password hashing on a bounded blocking pool
//! (argon2 never runs on the async threads), rate limits for anonymous web visitors, and the
//! client's address behind trusted proxies. Every map here is bounded.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use kefu_domain::Timestamp;
use tokio::sync::Semaphore;

use crate::state::AppState;

/// Hashing refused: too many logins are already waiting for a hasher.
#[derive(Debug)]
pub struct Busy;

/// Runs argon2 on at most `n` blocking threads; a queue longer than `n * 8` is refused rather
/// than letting a login flood pile up.
pub struct Hasher {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl Hasher {
    pub fn new(n: usize) -> Self {
        let n = if n == 0 { std::thread::available_parallelism().map(|p| p.get()).unwrap_or(2) } else { n };
        Hasher { permits: Semaphore::new(n), waiting: AtomicUsize::new(0), max_waiting: n * 8 }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let _permit = permit.map_err(|_| Busy)?;
        tokio::task::spawn_blocking(f).await.map_err(|_| Busy)
    }

    pub async fn verify(&self, password: String, hash: String) -> Result<bool, Busy> {
        self.run(move || crate::auth::verify_password(&password, &hash)).await
    }

    pub async fn hash(&self, password: String) -> Result<anyhow::Result<String>, Busy> {
        self.run(move || crate::auth::hash_password(&password)).await
    }
}

/// The client's address: the connection's peer, or — when the peer is a trusted proxy — the
/// right-most address in `X-Forwarded-For` that is not one of the proxies.
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddr(forwarded_for(peer, &parts.headers, &state.config.trusted_proxies)))
    }
}

pub fn forwarded_for(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    let list: Vec<IpAddr> = hops.flat_map(|v| v.split(',')).filter_map(|h| h.trim().parse().ok()).collect();
    list.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer)
}

/// Most keys a limiter remembers; beyond that the stalest half is forgotten.
const MAX_KEYS: usize = 100_000;

/// A token bucket per key: `burst` at once, refilled at `per_minute`.
pub struct Buckets {
    burst: f64,
    per_ms: f64,
    map: Mutex<HashMap<String, (f64, Timestamp)>>,
}

impl Buckets {
    pub fn new(burst: u32, per_minute: u32) -> Self {
        Buckets {
            burst: f64::from(burst.max(1)),
            per_ms: f64::from(per_minute) / 60_000.0,
            map: Mutex::default(),
        }
    }

    /// Takes a token; `Err(wait)` says how long until the next one.
    pub fn take(&self, key: &str, now: Timestamp) -> Result<(), Duration> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            forget_stalest(&mut map);
        }
        let (tokens, at) = map.entry(key.to_owned()).or_insert((self.burst, now));
        let refilled = (*tokens + (now.0 - at.0).max(0) as f64 * self.per_ms).min(self.burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            let ms = if self.per_ms > 0.0 { ((1.0 - refilled) / self.per_ms).ceil() } else { 60_000.0 };
            Err(Duration::from_millis(ms as u64))
        }
    }
}

fn forget_stalest(map: &mut HashMap<String, (f64, Timestamp)>) {
    let mut ages: Vec<i64> = map.values().map(|(_, t)| t.0).collect();
    ages.sort_unstable();
    let cut = ages[ages.len() / 2];
    map.retain(|_, (_, t)| t.0 > cut);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_burst_then_its_rate() {
        let b = Buckets::new(3, 60); // one a second after three
        let t = Timestamp(1_000_000);
        for _ in 0..3 {
            assert!(b.take("v", t).is_ok());
        }
        let wait = b.take("v", t).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        assert!(b.take("other", t).is_ok(), "keys are separate");
        assert!(b.take("v", t.plus(Duration::from_secs(1))).is_ok());
        assert!(b.take("v", t.plus(Duration::from_secs(1))).is_err());
    }

    #[test]
    fn limiter_memory_stays_bounded() {
        let b = Buckets::new(1, 1);
        for i in 0..(MAX_KEYS + 10) {
            let _ = b.take(&format!("k{i}"), Timestamp(i as i64));
        }
        assert!(b.map.lock().unwrap().len() <= MAX_KEYS);
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        assert_eq!(forwarded_for(proxy, &h, &[proxy]), "203.0.113.7".parse::<IpAddr>().unwrap());
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(forwarded_for(stranger, &h, &[proxy]), stranger, "a client cannot claim an address");
    }

    #[tokio::test]
    async fn hashing_runs_off_the_async_threads_and_a_flood_is_refused() {
        let h = std::sync::Arc::new(Hasher::new(1));
        let hash = crate::auth::hash_password("pw").unwrap();
        assert!(h.verify("pw".into(), hash.clone()).await.unwrap());
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let (h, hash) = (h.clone(), hash.clone());
                tokio::spawn(async move { h.verify("x".into(), hash).await.is_err() })
            })
            .collect();
        let mut refused = 0;
        for t in tasks {
            refused += usize::from(t.await.unwrap());
        }
        assert!(refused > 0, "a queue beyond 8 per hasher is refused");
    }
}
