//! The file: a tar archive whose first entry is `manifest.json`, then one
//! entry a table, `tables/NN-name.jsonl.zst`: one JSON array a row,
//! zstd-compressed. A plain tar, so `tar -tvf` lists it and `tar -xOf FILE
//! tables/03-incidents.jsonl.zst | zstd -d` reads a table by hand.
//!
//! Every part is checked against the manifest's size, row count and SHA-256
//! as it is read, so a damaged or cut-short file is found before a restore
//! touches anything (`check`), and again while it loads.
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::manifest::{self, Manifest, TablePart};
use super::BackupError;

const ZSTD_LEVEL: i32 = 3;

/// Creates `path` for its owner alone: a backup holds password hashes,
/// webhook secrets and the CSRF key.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Counts and hashes what passes through.
struct Hashing<T> {
    inner: T,
    hash: Sha256,
    bytes: u64,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> (T, String, u64) {
        let hex = self
            .hash
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        (self.inner, hex, self.bytes)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// One table's rows, written to a file of its own until the archive is put
/// together (a tar entry's size comes before its bytes).
pub struct PartWriter {
    path: PathBuf,
    out: zstd::Encoder<'static, Hashing<BufWriter<File>>>,
    rows: u64,
    line: Vec<u8>,
}

/// A part written: where it waits, and what the manifest says of it.
pub struct WrittenPart {
    pub path: PathBuf,
    pub rows: u64,
    pub sha256: String,
    pub bytes: u64,
}

impl PartWriter {
    pub fn create(path: PathBuf) -> std::io::Result<Self> {
        let file = create_private(&path)?;
        let out = zstd::Encoder::new(Hashing::new(BufWriter::new(file)), ZSTD_LEVEL)?;
        Ok(Self {
            path,
            out,
            rows: 0,
            line: Vec::new(),
        })
    }

    pub fn row(&mut self, values: &[Json]) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, values)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(self) -> std::io::Result<WrittenPart> {
        let (buffered, sha256, bytes) = self.out.finish()?.finish();
        buffered
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        Ok(WrittenPart {
            path: self.path,
            rows: self.rows,
            sha256,
            bytes,
        })
    }
}

/// The archive's entry name for the `index`th table.
pub fn part_name(index: usize, table: &str) -> String {
    format!("tables/{:02}-{table}.jsonl.zst", index + 1)
}

/// Puts the manifest and the parts (in the manifest's order) together as
/// `out`: written beside it under another name, synced, then linked as
/// `out`, so `out` is never a half-written backup. An existing `out` is an error.
pub fn write(out: &Path, manifest: &Manifest, parts: &[PathBuf]) -> std::io::Result<()> {
    let partial = partial_path(out);
    let _ = std::fs::remove_file(&partial);
    let file = create_private(&partial)?;
    let mut tar = tar::Builder::new(BufWriter::new(file));
    let mtime = manifest.created_at.timestamp().max(0) as u64;
    let json = serde_json::to_vec_pretty(manifest)?;
    append(
        &mut tar,
        manifest::NAME,
        json.len() as u64,
        mtime,
        &json[..],
    )?;
    for (table, path) in manifest.tables.iter().zip(parts) {
        let file = File::open(path)?;
        append(&mut tar, &table.part, file.metadata()?.len(), mtime, file)?;
    }
    let file = tar.into_inner()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    // A link, not a rename: it never replaces a file already there (another
    // backup, or the very file a restore is reading).
    match std::fs::hard_link(&partial, out) {
        Ok(()) => std::fs::remove_file(&partial)?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&partial)?;
            return Err(e);
        }
        // A file system without hard links: a rename, after a last look.
        Err(_) if !out.exists() => std::fs::rename(&partial, out)?,
        Err(e) => return Err(e),
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    size: u64,
    mtime: u64,
    data: impl Read,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data)
}

/// Where `out` is written before it is complete.
pub fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

/// An archive open for reading.
pub struct Reader {
    path: PathBuf,
    tar: tar::Archive<BufReader<File>>,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Self, BackupError> {
        let file = File::open(path)
            .map_err(|e| BackupError::refused(format!("cannot read {}: {e}", path.display())))?;
        Ok(Self {
            path: path.to_owned(),
            tar: tar::Archive::new(BufReader::new(file)),
        })
    }

    /// Reads the manifest, then hands out the parts in its order.
    pub fn parts(&mut self) -> Result<Parts<'_>, BackupError> {
        let path = self.path.clone();
        let damaged = |e: std::io::Error| damaged(&path, e);
        let mut entries = self.tar.entries().map_err(damaged)?;
        let not_ours = || {
            BackupError::refused(format!(
                "{} is not a statuspost backup (it does not start with {})",
                path.display(),
                manifest::NAME
            ))
        };
        let mut first = entries
            .next()
            .ok_or_else(not_ours)?
            .map_err(|_| not_ours())?;
        if first.path().ok().as_deref() != Some(Path::new(manifest::NAME)) {
            return Err(not_ours());
        }
        let mut json = Vec::new();
        first.read_to_end(&mut json).map_err(damaged)?;
        drop(first);
        let format = serde_json::from_slice::<Json>(&json)
            .ok()
            .and_then(|m| m.get("format")?.as_u64())
            .ok_or_else(not_ours)?;
        if format > u64::from(manifest::FORMAT) {
            return Err(BackupError::refused(format!(
                "{} is in backup format {format}, newer than this statuspost reads ({}): \
                 restore it with the statuspost version that wrote it",
                path.display(),
                manifest::FORMAT
            )));
        }
        let manifest: Manifest = serde_json::from_slice(&json).map_err(|e| {
            BackupError::refused(format!("{}: its manifest is damaged: {e}", path.display()))
        })?;
        Ok(Parts {
            path,
            entries,
            manifest,
            next: 0,
        })
    }
}

fn damaged(path: &Path, e: std::io::Error) -> BackupError {
    BackupError::refused(format!("{} is damaged or cut short: {e}", path.display()))
}

pub struct Parts<'a> {
    path: PathBuf,
    entries: tar::Entries<'a, BufReader<File>>,
    pub manifest: Manifest,
    next: usize,
}

impl<'a> Parts<'a> {
    /// The next table and its rows; `None` after the last.
    pub fn next_part(&mut self) -> Result<Option<(TablePart, Rows<'a>)>, BackupError> {
        let Some(table) = self.manifest.tables.get(self.next).cloned() else {
            return Ok(None);
        };
        self.next += 1;
        let missing = || {
            BackupError::refused(format!(
                "{} is cut short: {} is missing",
                self.path.display(),
                table.part
            ))
        };
        let entry = self
            .entries
            .next()
            .ok_or_else(missing)?
            .map_err(|e| damaged(&self.path, e))?;
        if entry.path().ok().as_deref() != Some(Path::new(&table.part)) {
            return Err(BackupError::refused(format!(
                "{} is damaged: {} is not where its manifest says",
                self.path.display(),
                table.part
            )));
        }
        let decoder =
            zstd::Decoder::new(Hashing::new(entry)).map_err(|e| damaged(&self.path, e))?;
        let rows = Rows {
            path: self.path.clone(),
            table: table.clone(),
            lines: Some(BufReader::new(decoder)),
            read: 0,
            line: String::new(),
        };
        Ok(Some((table, rows)))
    }
}

type Decoded<'a> =
    BufReader<zstd::Decoder<'static, BufReader<Hashing<tar::Entry<'a, BufReader<File>>>>>>;

/// A part's rows, each checked for its number of columns; after the last,
/// the part's size, row count and SHA-256 are checked against the manifest.
pub struct Rows<'a> {
    path: PathBuf,
    table: TablePart,
    lines: Option<Decoded<'a>>,
    read: u64,
    line: String,
}

impl Rows<'_> {
    /// The next row, or `None` once the whole part has been read and found
    /// as the manifest says.
    pub fn next_row(&mut self) -> Result<Option<Vec<Json>>, BackupError> {
        let Some(lines) = self.lines.as_mut() else {
            return Ok(None);
        };
        self.line.clear();
        let n = lines
            .read_line(&mut self.line)
            .map_err(|e| damaged(&self.path, e))?;
        if n == 0 {
            let lines = self.lines.take().expect("checked above");
            return self.end(lines).map(|()| None);
        }
        let row: Vec<Json> = serde_json::from_str(&self.line).map_err(|e| {
            BackupError::refused(format!(
                "{}: row {} of {} is damaged: {e}",
                self.path.display(),
                self.read + 1,
                self.table.name
            ))
        })?;
        if row.len() != self.table.columns.len() {
            return Err(BackupError::refused(format!(
                "{}: row {} of {} has {} values for {} columns",
                self.path.display(),
                self.read + 1,
                self.table.name,
                row.len(),
                self.table.columns.len()
            )));
        }
        self.read += 1;
        Ok(Some(row))
    }

    fn end(&mut self, lines: Decoded<'_>) -> Result<(), BackupError> {
        let mut hashing = lines.into_inner().finish().into_inner();
        // What the decoder left unread is part of the part's bytes too.
        std::io::copy(&mut hashing, &mut std::io::sink()).map_err(|e| damaged(&self.path, e))?;
        let (_, sha256, bytes) = hashing.finish();
        if sha256 != self.table.sha256 || bytes != self.table.bytes {
            return Err(BackupError::refused(format!(
                "{} is damaged: {} does not match its checksum",
                self.path.display(),
                self.table.part
            )));
        }
        if self.read != self.table.rows {
            return Err(BackupError::refused(format!(
                "{} is damaged: {} has {} rows, its manifest says {}",
                self.path.display(),
                self.table.name,
                self.read,
                self.table.rows
            )));
        }
        Ok(())
    }
}

/// Reads every part of the archive at `path` and checks it against the
/// manifest; returns the manifest when all of it is as it says.
pub fn check(path: &Path) -> Result<Manifest, BackupError> {
    let mut reader = Reader::open(path)?;
    let mut parts = reader.parts()?;
    while let Some((_, mut rows)) = parts.next_part()? {
        while rows.next_row()?.is_some() {}
    }
    Ok(parts.manifest)
}
