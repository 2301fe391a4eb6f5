//! The content-addressed attachment store (SECURITY.md, uploads): a file is
//! kept under the SHA-256 of its content, never under the name it was
//! uploaded with, and the same content twice is kept once. Where: a
//! directory (`<dir>/ab/cd/<sha256>`; several instances share it as a
//! mounted volume) or the database itself (`file_chunks`, 1 MiB a row),
//! as the settings say. An upload is written to a staging file as it
//! arrives, hashed on the way and cut off at the size limit, so its size
//! never sits in memory; it is kept only once it is whole.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// The size of a content's pieces in the database, and of the reads that
/// serve it.
pub const CHUNK: usize = 1 << 20;

/// Where contents are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Store {
    /// Files in this directory.
    Directory(PathBuf),
    /// Rows of `file_chunks`.
    Database,
}

impl Store {
    /// How `file_blobs.stored_in` names it.
    pub fn name(&self) -> &'static str {
        match self {
            Store::Directory(_) => "directory",
            Store::Database => "database",
        }
    }

    /// Where uploads are written while they arrive: inside the directory
    /// store (so keeping one is a rename on the same file system), else in
    /// the data directory.
    pub fn staging(&self, data_dir: &Path) -> PathBuf {
        match self {
            Store::Directory(dir) => dir.join("incoming"),
            Store::Database => data_dir.join("incoming"),
        }
    }
}

/// The path of content `sha256` in directory `dir`.
pub fn path_in(dir: &Path, sha256: &str) -> PathBuf {
    let (a, b) = (
        sha256.get(0..2).unwrap_or("00"),
        sha256.get(2..4).unwrap_or("00"),
    );
    dir.join(a).join(b).join(sha256)
}

/// Why an upload was not taken while it arrived.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("the file is larger than the {limit} bytes allowed")]
    TooLarge { limit: u64 },
    #[error("the upload could not be written: {0}")]
    Io(#[from] std::io::Error),
}

/// An upload being written to its staging file.
pub struct Staging {
    file: tokio::fs::File,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

/// A whole upload in its staging file: its SHA-256 (hex) and size. The
/// staging file is removed when this is dropped (a kept content has been
/// moved or copied away by then).
#[derive(Debug)]
pub struct Staged {
    pub sha256: String,
    pub size: u64,
    pub path: PathBuf,
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Staging {
    /// A new staging file in `dir` for an upload of at most `limit` bytes.
    pub async fn new(dir: &Path, limit: u64) -> Result<Self, StageError> {
        tokio::fs::create_dir_all(dir).await?;
        let mut name = [0u8; 16];
        getrandom::fill(&mut name).map_err(|e| std::io::Error::other(e.to_string()))?;
        let path = dir.join(format!("{}.part", hex::encode(name)));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(Self {
            file,
            path,
            hasher: Sha256::new(),
            size: 0,
            limit,
        })
    }

    /// Writes the next piece; refuses (and removes the file) past the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StageError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            let _ = tokio::fs::remove_file(&self.path).await;
            return Err(StageError::TooLarge { limit: self.limit });
        }
        self.hasher.update(chunk);
        if let Err(e) = self.file.write_all(chunk).await {
            let _ = tokio::fs::remove_file(&self.path).await;
            return Err(e.into());
        }
        Ok(())
    }

    /// The upload whole, on disk.
    pub async fn finish(mut self) -> Result<Staged, StageError> {
        let done = async {
            self.file.flush().await?;
            self.file.sync_all().await
        }
        .await;
        let staged = Staged {
            sha256: hex::encode(self.hasher.finalize()),
            size: self.size,
            path: self.path,
        };
        done?;
        Ok(staged)
    }

    /// Gives the upload up: its staging file is removed.
    pub async fn abandon(self) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

/// Keeps a staged content in directory `dir` under its hash, unless it is
/// there already; durable before the database records it. Blocking.
pub fn keep_in_directory(dir: &Path, staged: &Staged) -> std::io::Result<()> {
    let to = path_in(dir, &staged.sha256);
    if to.exists() {
        return Ok(());
    }
    let parent = to.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent)?;
    std::fs::rename(&staged.path, &to)?;
    // The rename is durable once its directory is.
    std::fs::File::open(parent)?.sync_all()
}

/// Reads a staged content in `CHUNK` pieces, calling `each` with the piece
/// number and its bytes (the database store's rows). Blocking.
pub fn each_chunk<E: From<std::io::Error>>(
    staged: &Staged,
    mut each: impl FnMut(i64, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut file = std::fs::File::open(&staged.path)?;
    let mut buf = vec![0u8; CHUNK];
    let mut n = 0;
    loop {
        let mut filled = 0;
        while filled < CHUNK {
            let got = file.read(&mut buf[filled..])?;
            if got == 0 {
                break;
            }
            filled += got;
        }
        if filled == 0 {
            return Ok(());
        }
        each(n, &buf[..filled])?;
        n += 1;
        if filled < CHUNK {
            return Ok(());
        }
    }
}

/// Reads piece `n` (of `CHUNK` bytes) of a content kept in directory `dir`;
/// empty past its end. Blocking.
pub fn read_piece(dir: &Path, sha256: &str, n: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path_in(dir, sha256))?;
    file.seek(SeekFrom::Start(n * CHUNK as u64))?;
    let mut buf = Vec::with_capacity(CHUNK);
    file.take(CHUNK as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_upload_is_hashed_as_it_arrives_cut_off_at_the_limit_and_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("files");
        let mut s = Staging::new(&store.join("incoming"), 10).await.unwrap();
        s.write(b"hello ").await.unwrap();
        s.write(b"world").await.err().unwrap();
        assert_eq!(
            std::fs::read_dir(store.join("incoming")).unwrap().count(),
            0
        );

        let mut s = Staging::new(&store.join("incoming"), 1 << 20)
            .await
            .unwrap();
        s.write(b"hello ").await.unwrap();
        s.write(b"world").await.unwrap();
        let staged = s.finish().await.unwrap();
        assert_eq!(
            staged.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(staged.size, 11);
        keep_in_directory(&store, &staged).unwrap();
        let kept = path_in(&store, &staged.sha256);
        assert!(
            kept.ends_with(
                "b9/4d/b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
            )
        );
        assert_eq!(std::fs::read(&kept).unwrap(), b"hello world");
        assert_eq!(
            read_piece(&store, &staged.sha256, 0).unwrap(),
            b"hello world"
        );
        assert!(read_piece(&store, &staged.sha256, 1).unwrap().is_empty());
        // The same content again is kept once.
        let mut s = Staging::new(&store.join("incoming"), 1 << 20)
            .await
            .unwrap();
        s.write(b"hello world").await.unwrap();
        let again = s.finish().await.unwrap();
        keep_in_directory(&store, &again).unwrap();
        drop(again);
        assert_eq!(std::fs::read(&kept).unwrap(), b"hello world");
        assert_eq!(
            std::fs::read_dir(store.join("incoming")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn a_content_is_read_back_in_whole_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Staging::new(dir.path(), 10 << 20).await.unwrap();
        let data: Vec<u8> = (0..(CHUNK * 2 + 5)).map(|i| (i % 251) as u8).collect();
        s.write(&data).await.unwrap();
        let staged = s.finish().await.unwrap();
        let mut pieces = Vec::new();
        each_chunk::<std::io::Error>(&staged, |n, bytes| {
            pieces.push((n, bytes.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[2].1.len(), 5);
        assert_eq!(pieces.concat_bytes(), data);
    }

    trait Concat {
        fn concat_bytes(&self) -> Vec<u8>;
    }
    impl Concat for Vec<(i64, Vec<u8>)> {
        fn concat_bytes(&self) -> Vec<u8> {
            self.iter().flat_map(|(_, b)| b.clone()).collect()
        }
    }
}
