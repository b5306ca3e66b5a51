//! A fuzzing smoke run against the running server (CI runs it on every change): mutated
//! WeChat, WeCom and DingTalk callbacks — correctly signed and encrypted envelopes around
//! broken content, and broken envelopes — mutated logins, random API requests, and hostile
//! WebSocket frames. Nothing may answer 5xx, and afterwards the server still works.
//! Seeded, so a failure reproduces; `KEFU_FUZZ_ROUNDS` makes it longer.

use futures::{SinkExt, StreamExt};
use kefu_channels::dingtalk::sign::sign;
use kefu_channels::wxcrypto::{MsgCrypt, signature};
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::helpers::*;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
    "]]>",
    "<![CDATA[",
    "\u{0}",
    "\u{feff}",
    "😀",
    "{",
    "}",
    "\"",
    "\\u0000",
    "1e309",
    "-1",
    "18446744073709551616",
    "null",
    "[]",
    "<xml>",
    "</xml>",
    "&amp;",
    "%00",
    "\r\n",
];

/// One random edit: flip, insert, delete, duplicate, or splice in a hostile token.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.insert(at, rng.next() as u8),
            2 if !v.is_empty() => {
                let end = (at + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            3 => {
                let end = (at + rng.below(64)).min(v.len());
                let piece = v[at.min(end)..end].repeat(1 + rng.below(50));
                v.splice(at..at, piece);
            }
            _ => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes().to_vec();
                v.splice(at..at, t);
            }
        }
    }
    v
}

const OA_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const DT_SECRET: &str = "demo-dingtalk-secret-0000000000000000000000000000";

fn oa_inner(i: usize) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_demo00000001]]></ToUserName><FromUserName><![CDATA[o_fuzz{}]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content>\
         <MsgId>{}</MsgId></xml>",
        i % 7,
        T0.seconds(),
        9_000_000 + i
    )
}

fn dt_body(i: usize) -> String {
    serde_json::json!({
        "msgtype": "text", "text": {"content": " 你好"}, "msgId": format!("fz{i}"), "createAt": T0.0,
        "conversationType": "1", "conversationId": "cidFuzz", "senderId": "$:LWCP_v1:$fz",
        "senderStaffId": format!("dt_fuzz{}", i % 5), "senderNick": "模糊", "robotCode": "dingdemo00000001",
        "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=x",
        "sessionWebhookExpiredTime": T0.0 + 5_400_000
    })
    .to_string()
}

/// A signed, encrypted OA callback whose inner XML (or whole envelope) is mutated.
async fn oa_round(app: &TestApp, http: &reqwest::Client, rng: &mut Rng, i: usize) -> u16 {
    let crypt = MsgCrypt::new(OA_KEY, "wxdemo0000000001").unwrap();
    let inner = mutate(rng, oa_inner(i).as_bytes());
    let enc = crypt.encrypt(&String::from_utf8_lossy(&inner));
    let ts = T0.seconds().to_string();
    let (sig, msg_sig) = (signature(&["demotoken", &ts, "n"]), signature(&["demotoken", &ts, "n", &enc]));
    let mut body =
        format!("<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>").into_bytes();
    if rng.below(3) == 0 {
        body = mutate(rng, &body);
    }
    let url = format!(
        "/callback/wechat/wechat?signature={sig}&timestamp={ts}&nonce=n&openid=o&encrypt_type=aes&msg_signature={msg_sig}"
    );
    http.post(app.url(&url)).body(body).send().await.unwrap().status().as_u16()
}

async fn dingtalk_round(app: &TestApp, http: &reqwest::Client, rng: &mut Rng, i: usize) -> u16 {
    let body = mutate(rng, dt_body(i).as_bytes());
    let ts = (T0.0 + i as i64).to_string();
    let req = http.post(app.url("/callback/dingtalk/dingtalk")).body(body);
    req.header("timestamp", &ts).header("sign", sign(&ts, DT_SECRET)).send().await.unwrap().status().as_u16()
}

async fn login_round(app: &TestApp, http: &reqwest::Client, rng: &mut Rng) -> u16 {
    let body = mutate(rng, br#"{"username":"agent1","password":"wrong"}"#);
    let req = http.post(app.url("/api/auth/login")).header("content-type", "application/json").body(body);
    req.send().await.unwrap().status().as_u16()
}

async fn api_round(agent: &AgentClient, rng: &mut Rng) -> u16 {
    const PATHS: &[&str] = &[
        "/conversations?state=x,,queued&limit=-1",
        "/conversations/1/transfer",
        "/customers/1/tags",
        "/customers?q=%25_%5C",
        "/groups/1",
        "/kb/try",
        "/admin/webhooks",
        "/admin/settings/outbound",
        "/v1/changes?after=-5&limit=99999999999",
        "/dashboard?from=abc",
    ];
    let path = PATHS[rng.below(PATHS.len())];
    let body =
        mutate(rng, br#"{"text":"x","tags":["a"],"group":1,"name":"g","url":"http://x","allow":["x"]}"#);
    let url = format!("{}/api{path}", agent.base);
    let req = match rng.below(3) {
        0 => agent.http.get(&url),
        1 => agent.http.post(&url),
        _ => agent.http.put(&url),
    };
    let req = req.header("x-csrf-token", &agent.csrf).header("content-type", "application/json").body(body);
    req.send().await.unwrap().status().as_u16()
}

/// Hostile frames on one visitor socket; the socket may be closed by the server, never the server.
async fn websocket_round(app: &TestApp, rng: &mut Rng) {
    let url = format!("ws://{}/webchat/ws?c=web&v=fuzz-visitor-{:016}", app.addr, rng.below(4));
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else { return };
    for _ in 0..20 {
        let seed = br#"{"type":"send","client_id":"fuzzclient01","text":"hi"}"#;
        let frame = match rng.below(4) {
            0 => Ws::Binary(mutate(rng, seed).into()),
            _ => Ws::Text(String::from_utf8_lossy(&mutate(rng, seed)).into_owned().into()),
        };
        if ws.send(frame).await.is_err() {
            return;
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_millis(200), ws.next()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fuzzing_smoke_run_of_callbacks_logins_the_api_and_websockets_finds_no_5xx() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let rounds: usize = std::env::var("KEFU_FUZZ_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(150);
    let http = reqwest::Client::new();
    let lead = app.agent("lead", "lead123").await;
    let mut rng = Rng(0x6b65_6675_2d66_757a);
    let mut failures = vec![];
    for i in 0..rounds {
        let got = [
            ("oa", oa_round(&app, &http, &mut rng, i).await),
            ("dingtalk", dingtalk_round(&app, &http, &mut rng, i).await),
            ("login", login_round(&app, &http, &mut rng).await),
            ("api", api_round(&lead, &mut rng).await),
        ];
        failures
            .extend(got.into_iter().filter(|(_, s)| *s >= 500).map(|(what, s)| format!("{what} #{i}: {s}")));
        if i % 10 == 0 {
            websocket_round(&app, &mut rng).await;
        }
    }
    assert!(failures.is_empty(), "5xx answers: {failures:?}");
    assert_eq!(http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    let mut v = app.visitor("after-fuzz-visitor-0001").await;
    v.say("after-fuzz-0001", "还能正常聊天吗").await;
}
