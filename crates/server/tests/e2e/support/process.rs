//! A real `flexportal serve` process, for tests about what happens to the process itself:
//! killed, stopped, or run twice on one database.

use std::time::Duration;

/// A `flexportal serve` process on `url`, delivering webhooks to local receivers; killed when
/// dropped.
pub struct Process {
    pub child: std::process::Child,
    pub base: String,
}

const PROCESS_KEY: &str = "7f3a9c1e5b2d4f6071829304a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e";

impl Process {
    pub async fn start(url: &str) -> Process {
        Process::start_with(url, &[]).await
    }

    pub async fn start_with(url: &str, extra: &[&str]) -> Process {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let base = format!("http://127.0.0.1:{port}");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_flexportal"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--allow-insecure-webhooks",
                "--allow-private-webhook-targets",
                "--webhook-timeout-secs",
                "1",
            ])
            .args(extra)
            .env("FLEXPORTAL_DATABASE_URL", url)
            .env("FLEXPORTAL_SECRET_KEY", PROCESS_KEY)
            .env("FLEXPORTAL_LOG", "error")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start flexportal");
        // Owned before waiting, so a server that never becomes ready is still killed.
        let process = Process { child, base };
        let http = reqwest::Client::new();
        for _ in 0..500 {
            if http
                .get(format!("{}/readyz", process.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("flexportal did not become ready");
    }

    /// SIGKILL: no shutdown, no flush, whatever was in flight is cut off.
    pub fn kill(self) {}

    /// SIGTERM, then the exit status, failing if it takes longer than `limit`.
    pub async fn terminate(mut self, limit: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for flexportal") {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "flexportal still running {limit:?} after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Process {
    /// A failing test must not leave servers behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
