//! The `flexportal` binary as an operator uses it: bootstrap, keys, business units, migrate,
//! serve with first-run bootstrap, and graceful shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Backend, fresh_database};

fn flexportal(url: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_flexportal"))
        .args(args)
        .env("FLEXPORTAL_DATABASE_URL", url)
        .env("FLEXPORTAL_LOG", "warn")
        .output()
        .expect("run flexportal");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn shell_commands(backend: Backend) {
    let Some((db, url, cleanup)) = fresh_database(backend).await else {
        return;
    };
    db.close().await;
    let (ok, out, err) = flexportal(&url, &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("schema version"));

    let (ok, out, err) = flexportal(
        &url,
        &[
            "bootstrap",
            "--org-name",
            "Acme Rentals",
            "--currency",
            "CHF",
            "--tier",
            "starter",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let first: serde_json::Value =
        serde_json::from_str(out.trim()).expect("bootstrap --json prints JSON");
    let organization = first["organizationId"].as_str().unwrap().to_string();
    assert!(organization.starts_with("org_"));
    assert!(first["tenantId"].as_str().unwrap().starts_with("bu_"));
    assert!(first["apiKey"].as_str().unwrap().starts_with("pk_live_eu_"));
    let (_, out, _) = flexportal(&url, &["bootstrap", "--json"]);
    let second: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_ne!(
        second["organizationId"], first["organizationId"],
        "each bootstrap makes a new organization"
    );

    let (ok, _, err) = flexportal(&url, &["bootstrap", "--currency", "euro"]);
    assert!(!ok && err.contains("--currency"), "{err}");

    let (ok, out, err) = flexportal(
        &url,
        &[
            "business-units",
            "create",
            "--organization",
            &organization,
            "--name",
            "Austria",
            "--vat-rate",
            "20",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let unit: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let (_, out, _) = flexportal(
        &url,
        &["business-units", "list", "--organization", &organization],
    );
    assert_eq!(out.lines().count(), 2);
    assert!(out.contains(unit["tenantId"].as_str().unwrap()) && out.contains("Austria"));

    let (ok, out, err) = flexportal(
        &url,
        &[
            "keys",
            "create",
            "--organization",
            &organization,
            "--name",
            "shop",
            "--permissions",
            "orders:write,products:read",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let key: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let key_id = key["keyId"].as_str().unwrap();
    let (_, listing, _) = flexportal(&url, &["keys", "list", "--organization", &organization]);
    assert!(listing.contains(key_id) && listing.contains("orders:write,products:read"));
    assert!(
        !listing.contains(key["apiKey"].as_str().unwrap()),
        "listing never shows secrets"
    );
    let (ok, _, _) = flexportal(
        &url,
        &["keys", "revoke", "--organization", &organization, key_id],
    );
    assert!(ok);
    let (_, listing, _) = flexportal(&url, &["keys", "list", "--organization", &organization]);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with(key_id) && l.contains("revoked"))
    );
    let (ok, _, err) = flexportal(
        &url,
        &[
            "keys",
            "create",
            "--organization",
            &organization,
            "--name",
            "x",
            "--permissions",
            "rockets:fly",
        ],
    );
    assert!(!ok && err.contains("--permissions"));
    cleanup.run().await;
}

#[tokio::test]
async fn shell_commands_sqlite() {
    shell_commands(Backend::Sqlite).await;
}

#[tokio::test]
async fn shell_commands_postgres() {
    shell_commands(Backend::Postgres).await;
}

async fn serve_bootstraps_then_stops_gracefully(backend: Backend) {
    let Some((db, url, cleanup)) = fresh_database(backend).await else {
        return;
    };
    db.close().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_flexportal"))
        .env("FLEXPORTAL_DATABASE_URL", &url)
        .env("FLEXPORTAL_LISTEN", &listen)
        .env("FLEXPORTAL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start flexportal");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http
            .get(format!("http://{listen}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The first run on an empty database printed a tenant, a key and a curl line to try.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "exit status after SIGTERM: {:?}",
        output.status
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    let key = printed
        .split_whitespace()
        .find(|w| w.starts_with("pk_live_eu_"))
        .expect("the admin key");
    let tenant = printed
        .split_whitespace()
        .find(|w| w.starts_with("bu_"))
        .expect("the tenant")
        .trim_end_matches('.');
    assert!(printed.contains("curl"));

    // The printed credentials work on the next start, which does not bootstrap again.
    let child = Command::new(env!("CARGO_BIN_EXE_flexportal"))
        .args(["serve", "--listen", &listen])
        .env("FLEXPORTAL_DATABASE_URL", &url)
        .env("FLEXPORTAL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let response = loop {
        match http
            .get(format!("http://{listen}/v1/products"))
            .bearer_auth(key)
            .header("Tenant-ID", tenant)
            .send()
            .await
        {
            Ok(r) => break r,
            Err(_) => {
                assert!(Instant::now() < deadline, "server did not come up again");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(response.status(), 200);
    // A request whose body is still arriving when SIGTERM comes is answered in full. With
    // `Expect: 100-continue` the server says when the handler has started reading the body, so
    // the signal lands on a request that is in flight, not on an idle connection.
    let csv = "Product Name,Product SKU,Category,Brand,Specification,Variant SKU,List Price,Acquisition Cost,12mo_Price\n\
               Late,LATE-1,Laptops,Acme,spec,LATE-1-A,100,50,10\n";
    let head = format!(
        "POST /v1/products/csv HTTP/1.1\r\nHost: {listen}\r\nAuthorization: Bearer {key}\r\nTenant-ID: {tenant}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        csv.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&listen).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(&listen).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the server kept accepting after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stream.write_all(csv.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("pk_live_"),
        "a second start prints no new key"
    );
    cleanup.run().await;
}

#[tokio::test]
async fn serve_sqlite() {
    serve_bootstraps_then_stops_gracefully(Backend::Sqlite).await;
}

#[tokio::test]
async fn serve_postgres() {
    serve_bootstraps_then_stops_gracefully(Backend::Postgres).await;
}
