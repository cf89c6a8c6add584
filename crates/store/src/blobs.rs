//! Where file contents live: a directory (by default `<data-dir>/files`) or, in builds with the
//! `s3` feature, an S3-compatible bucket. The only module that talks to the object store.
//!
//! Objects are written whole and published atomically (the local store writes a staging file
//! and renames it, S3 makes an object visible only once uploaded), so a reader never sees half
//! a file.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::{Result, StoreError};

/// A file's bytes as they arrive from the store.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

pub struct Blob {
    pub size: u64,
    pub stream: ByteStream,
}

#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    /// Prepended to every key: the bucket folder of an `s3://bucket/folder` URL.
    prefix: String,
    /// The store without credentials, for logs.
    name: String,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStore({})", self.name)
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Blob(format!("{what}: {e}"))
}

impl BlobStore {
    /// The store named by `url`: `file:///absolute/dir` or a plain directory path (created
    /// when missing), `memory://` (lost at exit; tests), or `s3://bucket/folder` in builds with
    /// the `s3` feature, configured from the usual `AWS_*` variables (`AWS_ENDPOINT` for other
    /// S3-compatible services).
    pub fn open(url: &str) -> Result<BlobStore> {
        if let Some(rest) = url.strip_prefix("file://") {
            return BlobStore::local(std::path::Path::new(rest));
        }
        if url == "memory://" || url == "memory:///" {
            return Ok(BlobStore::memory());
        }
        if url.starts_with("s3://") || url.starts_with("s3a://") {
            return s3(url);
        }
        if url.contains("://") {
            return Err(StoreError::Config(format!(
                "unsupported file store URL {url:?}: use a directory, file:///dir or s3://bucket/folder"
            )));
        }
        BlobStore::local(std::path::Path::new(url))
    }

    /// A directory, created when missing. Every write reaches the disk before it counts, since
    /// the row that makes a file visible is committed right after.
    pub fn local(dir: &std::path::Path) -> Result<BlobStore> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| StoreError::Config(format!("cannot use {}: {e}", dir.display())))?
            .with_fsync(true);
        Ok(BlobStore {
            inner: Arc::new(store),
            prefix: String::new(),
            name: format!("directory {}", dir.display()),
        })
    }

    /// In memory, gone when the process exits: the default of an `AppState` built in code,
    /// which a server replaces with its configured store.
    pub fn memory() -> BlobStore {
        BlobStore {
            inner: Arc::new(InMemory::new()),
            prefix: String::new(),
            name: "memory".into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn path(&self, key: &str) -> Result<Path> {
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        Path::parse(full).map_err(|e| failed("invalid object key", e))
    }

    /// Stores `bytes` under `key`, replacing what was there.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        let path = self.path(key)?;
        self.inner
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| failed("write", e))?;
        Ok(())
    }

    /// The object under `key`, or `None` when there is none.
    pub async fn get(&self, key: &str) -> Result<Option<Blob>> {
        let path = self.path(key)?;
        match self.inner.get(&path).await {
            Ok(found) => Ok(Some(Blob {
                size: found.meta.size,
                stream: found
                    .into_stream()
                    .map(|chunk| chunk.map_err(std::io::Error::other))
                    .boxed(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed("read", e)),
        }
    }

    /// Removes the object under `key`; one that is not there counts as removed.
    pub async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed("delete", e)),
        }
    }
}

#[cfg(feature = "s3")]
fn s3(url: &str) -> Result<BlobStore> {
    let parsed = url::Url::parse(url)
        .map_err(|e| StoreError::Config(format!("invalid file store URL: {e}")))?;
    let store = object_store::aws::AmazonS3Builder::from_env()
        .with_url(url)
        .build()
        .map_err(|e| StoreError::Config(format!("cannot configure S3: {e}")))?;
    Ok(BlobStore {
        inner: Arc::new(store),
        prefix: parsed.path().trim_matches('/').to_string(),
        name: format!(
            "s3://{}{}",
            parsed.host_str().unwrap_or_default(),
            parsed.path()
        ),
    })
}

#[cfg(not(feature = "s3"))]
fn s3(_url: &str) -> Result<BlobStore> {
    Err(StoreError::Config(
        "this build has no S3 support: build flexportal with `--features s3`".into(),
    ))
}

/// Removes a stored object unless disarmed: a write whose row never commits, for whatever
/// reason (an error, or the request being dropped at its deadline), leaves no object behind.
pub(crate) struct Unclaimed {
    store: BlobStore,
    key: Option<String>,
}

impl Unclaimed {
    pub(crate) fn new(store: &BlobStore, key: &str) -> Unclaimed {
        Unclaimed {
            store: store.clone(),
            key: Some(key.to_string()),
        }
    }

    /// The row is committed: the object stays.
    pub(crate) fn claim(mut self) {
        self.key = None;
    }

    /// Removes the object now, waiting for it.
    pub(crate) async fn discard(mut self) {
        if let Some(key) = self.key.take()
            && let Err(e) = self.store.delete(&key).await
        {
            tracing::warn!(error = %e, %key, "could not remove the contents of a file that was not recorded");
        }
    }
}

impl Drop for Unclaimed {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let store = self.store.clone();
        // Dropped mid-request: the removal cannot be awaited here, so it runs on its own.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.delete(&key).await {
                    tracing::warn!(error = %e, %key, "could not remove the contents of a file that was not recorded");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_delete_in_a_directory() {
        let dir = std::env::temp_dir().join(format!(
            "flexportal-blobs-{}",
            flexportal_domain::ids::IdKind::File.generate()
        ));
        let store = BlobStore::open(&format!("file://{}", dir.display())).unwrap();
        store
            .put("bu_1/file_1", Bytes::from_static(b"hello"))
            .await
            .unwrap();
        assert_eq!(
            std::fs::read(dir.join("bu_1").join("file_1")).unwrap(),
            b"hello"
        );
        let blob = store.get("bu_1/file_1").await.unwrap().unwrap();
        assert_eq!(blob.size, 5);
        let chunks: Vec<_> = blob.stream.collect().await;
        let bytes: Vec<u8> = chunks
            .into_iter()
            .flat_map(|c| c.unwrap().to_vec())
            .collect();
        assert_eq!(bytes, b"hello");
        store.delete("bu_1/file_1").await.unwrap();
        store.delete("bu_1/file_1").await.unwrap();
        assert!(store.get("bu_1/file_1").await.unwrap().is_none());
        assert!(!dir.join("bu_1").join("file_1").exists());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn an_unclaimed_object_is_removed_and_a_claimed_one_stays() {
        let store = BlobStore::memory();
        for key in ["a/1", "a/2", "a/3"] {
            store.put(key, Bytes::from_static(b"x")).await.unwrap();
        }
        Unclaimed::new(&store, "a/1").claim();
        Unclaimed::new(&store, "a/2").discard().await;
        drop(Unclaimed::new(&store, "a/3"));
        // The drop's removal runs as its own task.
        for _ in 0..100 {
            if store.get("a/3").await.unwrap().is_none() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(store.get("a/1").await.unwrap().is_some());
        assert!(store.get("a/2").await.unwrap().is_none());
        assert!(store.get("a/3").await.unwrap().is_none());
    }

    #[test]
    fn urls() {
        assert!(BlobStore::open("memory://").is_ok());
        assert!(matches!(
            BlobStore::open("ftp://example.com/x"),
            Err(StoreError::Config(_))
        ));
        #[cfg(not(feature = "s3"))]
        assert!(matches!(
            BlobStore::open("s3://bucket/folder"),
            Err(StoreError::Config(m)) if m.contains("--features s3")
        ));
    }
}
