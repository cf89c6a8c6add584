//! SQLite's write-ahead log goes back into the database file without the writer doing it: the
//! writer checkpoints itself only past 10,000 pages, so below that, pages reach the database file
//! only through the background checkpointer.

use std::time::{Duration, Instant};

use flexportal_store::Db;

#[tokio::test]
async fn the_log_is_copied_back_while_the_writer_writes_on() {
    let dir = std::env::temp_dir().join(format!(
        "flexportal-wal-{}",
        flexportal_domain::ids::IdKind::Event.generate()
    ));
    let file = dir.join("w.db");
    let db = Db::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    db.execute(
        "CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)",
        vec![],
    )
    .await
    .unwrap();
    // About 1,000 commits of one 4 KiB page each, with their tree pages: past the 1,000 pages
    // that wake the checkpointer, far below the 10,000 where the writer would act itself.
    const ROWS: u64 = 1_000;
    for _ in 0..ROWS {
        db.execute(
            "INSERT INTO filler (body) VALUES (randomblob(3900))",
            vec![],
        )
        .await
        .unwrap();
    }
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    // The first wake comes near commit 500, and what the checkpoints copy stays copied; the last
    // few hundred rows may still be in the log when the writes stop.
    const COPIED_AT_LEAST: u64 = 400 * 4096;
    while size() < COPIED_AT_LEAST && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let copied = size();
    let wal = std::fs::metadata(dir.join("w.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(
        copied >= COPIED_AT_LEAST,
        "the database file holds {copied} bytes after {ROWS} rows of 3,900 bytes; the log {wal}"
    );
    let rows: Vec<(i64,)> = db
        .fetch_all("SELECT COUNT(*) FROM filler", vec![])
        .await
        .unwrap();
    assert_eq!(rows, vec![(ROWS as i64,)]);
    db.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
