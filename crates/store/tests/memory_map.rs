//! SQLite reads the database file through a memory map as large as `Db::connect` asks for. A
//! build without the raised ceiling in `.cargo/config.toml` would quietly cap the map at 2 GiB,
//! and a database past that size would go back to one read call per page.

use flexportal_store::Db;

#[tokio::test]
async fn sqlite_maps_up_to_64_gib() {
    let dir = std::env::temp_dir().join(format!(
        "flexportal-mmap-{}",
        flexportal_domain::ids::IdKind::Event.generate()
    ));
    let db = Db::connect(&format!("sqlite://{}/m.db", dir.display()))
        .await
        .unwrap();
    let size: Vec<(i64,)> = db.fetch_all("PRAGMA mmap_size", vec![]).await.unwrap();
    assert_eq!(size, vec![(64_i64 << 30,)]);
    db.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
