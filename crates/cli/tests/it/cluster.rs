//! A real cluster for the multi-node tests: N `kefu serve` processes on one PostgreSQL schema
//! and one NATS server (a prefix of their own), behind nginx from Debian's packages as the load
//! balancer (WebSocket upgrade, no sticky sessions). Nodes can be `kill -9`ed and restarted.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const NGINX: &str = "/usr/sbin/nginx";

pub struct Cluster {
    pub db_url: String,
    pub schema: String,
    dir: tempfile::TempDir,
    ports: Vec<u16>,
    nodes: Vec<Option<Child>>,
    nginx: Child,
    /// nginx, what clients use.
    pub base: String,
    pub admin_password: String,
}

/// `Some(reason)` when the outside services are missing; the caller skips loudly, or fails
/// with `KEFU_REQUIRE_MULTINODE=1` (CI).
pub fn missing() -> Option<String> {
    let missing = if std::env::var("KEFU_TEST_DATABASE_URL").is_err() {
        Some("KEFU_TEST_DATABASE_URL is not set")
    } else if std::env::var("KEFU_TEST_NATS_URL").is_err() {
        Some("KEFU_TEST_NATS_URL is not set")
    } else if !std::path::Path::new(NGINX).exists() {
        Some("nginx is not installed")
    } else {
        None
    }?;
    assert!(std::env::var("KEFU_REQUIRE_MULTINODE").is_err(), "multi-node tests required, but {missing}");
    let _ = writeln!(std::io::stderr(), "\n*** {missing}: multi-node tests were SKIPPED ***\n");
    Some(missing.to_owned())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn node_config(c: &Cluster, i: usize) -> PathBuf {
    let dir = c.dir.path().join(format!("node{i}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kefu.toml");
    let nats = std::env::var("KEFU_TEST_NATS_URL").unwrap();
    let toml = format!(
        "bind = \"127.0.0.1:{port}\"\ndata_dir = \"{dir}\"\ndatabase_url = \"{db}\"\nsecret_key = \"{key}\"\n\
         nats_url = \"{nats}\"\nnats_prefix = \"{prefix}\"\nmetrics_bind = \"\"\ntrusted_proxies = [\"127.0.0.1\"]\n\
         log = \"warn\"\n[limits]\nvisitor_burst = 10000\nnew_visitors_per_ip_per_hour = 100000\n\
         [routing]\npresence_timeout_secs = 0\n",
        port = c.ports[i],
        dir = dir.display(),
        db = c.db_url,
        key = "bXVsdGlub2RlLXRlc3Qtc2VjcmV0LWtleS0wMDAwMDA=",
        prefix = c.schema,
    );
    std::fs::write(&path, toml).unwrap();
    path
}

fn nginx_conf(dir: &std::path::Path, ports: &[u16], listen: u16) -> String {
    let servers: String =
        ports.iter().map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;\n")).collect();
    let d = dir.display();
    format!(
        "worker_processes 1;\nuser root;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log warn;\n\
         events {{ worker_connections 8192; }}\nhttp {{\n  access_log off;\n\
         client_body_temp_path {d}/t1; proxy_temp_path {d}/t2; fastcgi_temp_path {d}/t3; uwsgi_temp_path {d}/t4; scgi_temp_path {d}/t5;\n\
         upstream kefu {{\n{servers}  }}\n\
         map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n\
         server {{\n    listen 127.0.0.1:{listen};\n    location / {{\n\
         proxy_pass http://kefu;\n      proxy_http_version 1.1;\n\
         proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection $connection_upgrade;\n\
         proxy_set_header Host $host;\n      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
         proxy_read_timeout 300s;\n      proxy_next_upstream error timeout http_502 http_503;\n\
         proxy_connect_timeout 2s;\n    }}\n  }}\n}}\n"
    )
}

async fn run_kefu(args: &[&str], config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(args)
        .arg("--config")
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn kefu")
}

/// Reads the banner until `listening`; returns the printed admin password, if any.
async fn wait_listening(child: &mut Child) -> Option<String> {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut admin = None;
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if let ["admin", "admin", "/", pw] = parts.as_slice() {
                admin = Some((*pw).to_owned());
            }
            if line.contains("demo site") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read).await.expect("node did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    admin
}

impl Cluster {
    pub async fn start(n: usize) -> Cluster {
        let url = std::env::var("KEFU_TEST_DATABASE_URL").unwrap();
        let schema = format!("kefu_mn_{:x}", rand::random::<u64>());
        let mut admin = sqlx::PgConnection::connect(&url).await.expect("PostgreSQL");
        admin.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).await.unwrap();
        admin.close().await.unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        // The application name lets a test find (and terminate) exactly this cluster's connections.
        let db_url = format!("{url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}");
        let dir = tempfile::tempdir().unwrap();
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let listen = free_port();
        std::fs::write(dir.path().join("nginx.conf"), nginx_conf(dir.path(), &ports, listen)).unwrap();
        let nginx = Command::new(NGINX)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .kill_on_drop(true)
            .spawn()
            .expect("spawn nginx");
        let mut c = Cluster {
            db_url,
            schema,
            dir,
            ports,
            nodes: (0..n).map(|_| None).collect(),
            nginx,
            base: format!("http://127.0.0.1:{listen}"),
            admin_password: String::new(),
        };
        // `kefu migrate` first, as the deployment guide says, then the nodes together.
        let cfg = node_config(&c, 0);
        let status =
            Command::new(env!("CARGO_BIN_EXE_kefu")).arg("migrate").arg("--config").arg(&cfg).status();
        assert!(status.await.unwrap().success(), "kefu migrate");
        let mut children = vec![];
        for i in 0..n {
            children.push(run_kefu(&["serve"], &node_config(&c, i)).await);
        }
        for (i, mut child) in children.into_iter().enumerate() {
            if let Some(pw) = wait_listening(&mut child).await {
                c.admin_password = pw;
            }
            c.nodes[i] = Some(child);
        }
        assert!(!c.admin_password.is_empty(), "exactly one node created the admin");
        c.wait_healthy().await;
        c
    }

    /// Node `i` directly, bypassing nginx (the benchmark's same-node/cross-node latency).
    #[allow(dead_code)]
    pub fn node_base(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    async fn wait_healthy(&self) {
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(format!("{}/healthz", self.base)).await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nginx never answered");
    }

    /// SIGKILL: no shutdown hook, exactly like a crash.
    pub async fn kill_9(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].take() {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
        }
    }

    pub async fn restart(&mut self, i: usize) {
        let mut child = run_kefu(&["serve"], &node_config(self, i)).await;
        wait_listening(&mut child).await;
        self.nodes[i] = Some(child);
    }

    /// An admin session through nginx.
    pub async fn admin(&self) -> (reqwest::Client, String) {
        login(&self.base, "admin", &self.admin_password).await
    }

    /// A login's session cookie (`kefu_session=…`), for a WebSocket handshake.
    pub async fn session_cookie(&self, user: &str, password: &str) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("kefu_session="));
        cookie.unwrap().split(';').next().unwrap().to_owned()
    }

    pub async fn db(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.db_url).await.unwrap()
    }

    pub async fn stop(mut self) {
        for i in 0..self.nodes.len() {
            self.kill_9(i).await;
        }
        self.stop_nginx();
        let _ = self.nginx.wait().await;
        let url = std::env::var("KEFU_TEST_DATABASE_URL").unwrap();
        if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
            let _ = c.execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {} CASCADE", self.schema))).await;
        }
    }
}

impl Cluster {
    /// SIGTERM to the master, which stops its workers too; a SIGKILL (what `kill_on_drop`
    /// sends) would leave the workers running and holding the port.
    fn stop_nginx(&self) {
        if let Some(pid) = self.nginx.id() {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
        }
    }
}

impl Drop for Cluster {
    /// A failed test must not leave nginx behind either.
    fn drop(&mut self) {
        self.stop_nginx();
    }
}

pub async fn login(base: &str, user: &str, password: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    for _ in 0..50 {
        let res = http
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": user, "password": password}));
        if let Ok(res) = res.send().await
            && res.status() == 200
        {
            let me: Value = res.json().await.unwrap();
            return (http, me["csrf_token"].as_str().unwrap().to_owned());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{user} could not log in");
}
