//! Runs the built `kefu` binary as a child process and talks to it over HTTP and WebSocket.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message as Ws;

pub struct Kefu {
    pub child: Child,
    pub base: String,
    /// Every line the process printed on stdout up to the login list.
    pub banner: Vec<String>,
}

const START_WAIT: Duration = Duration::from_secs(60);

/// Starts `kefu <args…>` and waits for its "listening" banner and any printed logins.
pub async fn start(args: &[&str], data_dir: &Path) -> Kefu {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(args)
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("KEFU_LOG", "warn")
        // Tests type faster than people; the limits have tests of their own.
        .env("KEFU_LIMITS__VISITOR_BURST", "1000")
        .env("KEFU_METRICS_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn kefu");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = vec![];
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let last = line.contains("demo site");
            banner.push(line);
            if last {
                break;
            }
        }
    };
    tokio::time::timeout(START_WAIT, read).await.expect("kefu did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base =
        banner.iter().find_map(|l| l.strip_prefix("kefu listening on ")).expect("listening line").to_owned();
    Kefu { child, base, banner }
}

impl Kefu {
    /// The password printed for a login, e.g. the bootstrap admin's.
    pub fn password_of(&self, user: &str) -> Option<String> {
        self.banner.iter().find_map(|l| {
            let mut parts = l.split_whitespace();
            let (_role, name, _slash, pw) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            (name == user).then(|| pw.to_owned())
        })
    }

    /// SIGKILL: no shutdown hook, no flush, exactly like a crash or an OOM kill.
    pub async fn kill_9(mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }

    pub async fn login(&self, user: &str, password: &str) -> (reqwest::Client, String) {
        let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let res = http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let me: Value = res.json().await.unwrap();
        (http, me["csrf_token"].as_str().unwrap().to_owned())
    }

    pub async fn visitor(&self, id: &str) -> Visitor {
        let url = format!("{}/webchat/ws?c=web&v={id}", self.base.replace("http://", "ws://"));
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut v = Visitor { ws, hello: Value::Null };
        v.hello = v.next().await;
        v
    }
}

type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Visitor {
    ws: WsStream,
    pub hello: Value,
}

impl Visitor {
    pub async fn next(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next()).await.expect("no frame");
            if let Ws::Text(t) = msg.unwrap().unwrap() {
                return serde_json::from_str(&t).unwrap();
            }
        }
    }

    pub async fn say(&mut self, client_id: &str, text: &str) -> Value {
        let frame = json!({"type": "send", "client_id": client_id, "text": text});
        self.ws.send(Ws::Text(frame.to_string().into())).await.unwrap();
        // kefu's own notices (leave-message, queue position) may arrive between acks.
        loop {
            let frame = self.next().await;
            if frame["type"] == "ack" && frame["client_id"] == client_id {
                return frame;
            }
            assert_eq!(frame["type"], "message", "{frame}");
        }
    }

    pub fn history_texts(&self) -> Vec<String> {
        self.hello["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"]["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}
