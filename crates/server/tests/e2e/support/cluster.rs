//! A PostgreSQL cluster of a test's own: `initdb` into a temporary folder, its own port on
//! loopback, started and stopped with `pg_ctl`, so a test can take its database down without
//! touching the server every other test uses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    /// A new, stopped cluster; `None` where PostgreSQL's server programs are not installed.
    pub fn create() -> Option<Cluster> {
        let bin = server_programs()?;
        let dir = std::env::temp_dir().join(format!("flexportal-pg-{}", super::unique_suffix()));
        std::fs::create_dir_all(&dir).expect("create the cluster folder");
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("find a free port");
            probe.local_addr().expect("its address").port()
        };
        let cluster = Cluster { bin, dir, port };
        if running_as_root() {
            // PostgreSQL refuses to run as root; the folder goes to the postgres account.
            let owned = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&cluster.dir)
                .status()
                .expect("run chown");
            assert!(owned.success(), "chown the cluster folder to postgres");
        }
        let made = cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(made.status.success(), "initdb: {}", text(&made));
        Some(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the cluster and waits until it accepts connections.
    pub fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        let started = self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
        assert!(started.status.success(), "pg_ctl start: {}", text(&started));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the cluster did not open its port"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the cluster the way a crash or an operator's fast shutdown would: every session is
    /// cut at once.
    pub fn stop(&self) {
        let stopped = self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        assert!(stopped.status.success(), "pg_ctl stop: {}", text(&stopped));
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// Runs one of PostgreSQL's programs, as the postgres account when this process is root.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let program = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
                .arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("run a PostgreSQL program")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The folder holding `initdb` and `pg_ctl`: `FLEXPORTAL_TEST_PG_BIN`, or the newest
/// /usr/lib/postgresql/<version>/bin (Debian's layout).
fn server_programs() -> Option<PathBuf> {
    if let Ok(bin) = std::env::var("FLEXPORTAL_TEST_PG_BIN") {
        return Some(PathBuf::from(bin));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            Path::new(&bin)
                .join("initdb")
                .exists()
                .then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
