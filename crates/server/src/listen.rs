//! The accept loop: every connection gets a header deadline, an idle deadline (silent,
//! trickling and forgotten connections are closed), a cap per client address, and a cap for
//! the whole process kept below the file-descriptor limit, so a flood of idle sockets cannot
//! starve `/healthz` or anyone else.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tower::Service;

/// How long connections may take and how many one client may hold.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The request head must arrive within this.
    pub header_timeout: Duration,
    /// A connection with no bytes either way for this long is closed (WebSockets ping every 25 s).
    pub idle_timeout: Duration,
    /// Open connections per client address; proxies in `exempt` are not counted.
    pub per_ip: usize,
    /// Open connections in all.
    pub total: usize,
    pub exempt: Vec<IpAddr>,
}

/// Raises the soft file-descriptor limit to the hard one and returns how many connections
/// the process can hold with room to spare for the database, files and logs.
pub fn connection_budget(wanted: usize) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut lim = getrlimit(Resource::Nofile);
    if let Some(hard) = lim.maximum {
        lim.current = Some(hard);
        let _ = setrlimit(Resource::Nofile, lim);
    }
    let now = getrlimit(Resource::Nofile).current.unwrap_or(1024);
    let usable = usize::try_from(now).unwrap_or(usize::MAX).saturating_sub(128).max(64);
    wanted.min(usable)
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// Held for as long as a connection is open; counts it out when dropped.
struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total -= 1;
        if let Some(ip) = self.ip
            && let Some(n) = c.by_ip.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                c.by_ip.remove(&ip);
            }
        }
    }
}

fn admit(counts: &Arc<Mutex<Counts>>, limits: &Limits, ip: IpAddr) -> Option<Slot> {
    let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
    if c.total >= limits.total {
        return None;
    }
    let counted = !limits.exempt.contains(&ip);
    if counted {
        let n = c.by_ip.entry(ip).or_default();
        if *n >= limits.per_ip {
            return None;
        }
        *n += 1;
    }
    c.total += 1;
    Some(Slot { counts: counts.clone(), ip: counted.then_some(ip) })
}

/// Serves `router` until `shutdown` fires, then stops accepting and waits for requests in
/// flight (WebSocket sessions end themselves on the same signal).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let counts = Arc::new(Mutex::new(Counts::default()));
    let mut make = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    let mut open = tokio::task::JoinSet::new();
    loop {
        let (stream, addr) = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning; the slot will free up.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = admit(&counts, &limits, addr.ip()) else {
            drop(stream); // over a cap: closed at once, costing no more than the accept
            continue;
        };
        let Ok(svc) = make.call(addr).await;
        let (builder, mut stop, idle) = (builder.clone(), shutdown.clone(), limits.idle_timeout);
        open.spawn(async move {
            let _slot = slot;
            let _ = stream.set_nodelay(true);
            let io = TokioIo::new(IdleIo::new(stream, idle));
            let conn = builder.serve_connection_with_upgrades(io, TowerToHyperService::new(svc));
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => { let _ = r; }
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        while open.try_join_next().is_some() {}
    }
    while open.join_next().await.is_some() {}
    Ok(())
}

/// A TCP stream that fails with `TimedOut` once nothing was read or written for `idle`.
pub struct IdleIo {
    inner: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl IdleIo {
    fn new(inner: TcpStream, idle: Duration) -> Self {
        IdleIo { inner, idle, deadline: Box::pin(tokio::time::sleep(idle)) }
    }

    fn touch(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle too long")
}

impl AsyncRead for IdleIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.touch();
                }
                Poll::Ready(r)
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for IdleIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.touch();
                }
                Poll::Ready(Ok(n))
            }
            // A peer that stops reading is as gone as one that stops writing.
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(timed_out())),
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            per_ip: 2,
            total: 3,
            exempt: vec!["10.0.0.9".parse().unwrap()],
        }
    }

    #[test]
    fn connections_are_capped_per_address_and_in_all_and_counted_out_when_closed() {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let (a, b, proxy) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), "10.0.0.9".parse().unwrap());
        let l = limits();
        let s1 = admit(&counts, &l, a).unwrap();
        let _s2 = admit(&counts, &l, a).unwrap();
        assert!(admit(&counts, &l, a).is_none(), "a third from one address");
        let _s3 = admit(&counts, &l, proxy).unwrap();
        assert!(admit(&counts, &l, b).is_none(), "the total cap");
        drop(s1);
        assert!(admit(&counts, &l, b).is_some(), "a closed connection frees its slot");
    }
}
