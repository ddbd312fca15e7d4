//! A digest of each row of the tables a backup's change summary tells of
//! ([`crate::domain::backup_changes::TRACKED`]), read from the backup file
//! itself, and kept beside it in a small file of its own (zstd-compressed
//! JSON), so two backups compare without reading either again.
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::archive::{create_private, Reader};
use super::BackupError;
use crate::domain::backup_changes::{RowDigests, TRACKED};

/// Reads the backup at `path` (checking it as a restore would) and digests
/// the rows of the tracked tables, by their `id`.
pub fn of_backup(path: &Path) -> Result<RowDigests, BackupError> {
    let mut reader = Reader::open(path)?;
    let mut parts = reader.parts()?;
    let mut digests = RowDigests::new();
    while let Some((part, mut rows)) = parts.next_part()? {
        let Some(tracked) = TRACKED.iter().find(|t| t.table == part.name) else {
            while rows.next_row()?.is_some() {}
            continue;
        };
        let id_at = part.columns.iter().position(|c| c.name == "id");
        let counted: Vec<bool> = part
            .columns
            .iter()
            .map(|c| !tracked.ignore.contains(&c.name.as_str()))
            .collect();
        let table = digests.entry(part.name.clone()).or_default();
        while let Some(row) = rows.next_row()? {
            let Some(id) = id_at.and_then(|i| row[i].as_i64()) else {
                continue;
            };
            let mut hash = Sha256::new();
            for (value, counted) in row.iter().zip(&counted) {
                if *counted {
                    hash.update(value.to_string().as_bytes());
                    hash.update([0]);
                }
            }
            let bytes: [u8; 8] = hash.finalize()[..8].try_into().expect("8 bytes");
            table.insert(id, u64::from_be_bytes(bytes));
        }
    }
    Ok(digests)
}

/// Writes `digests` to `path`, a new file for its owner alone.
pub fn write(path: &Path, digests: &RowDigests) -> std::io::Result<()> {
    let file = create_private(path)?;
    let mut out = zstd::Encoder::new(file, 3)?;
    serde_json::to_writer(&mut out, digests)?;
    out.finish()?.sync_all()?;
    Ok(())
}

pub fn read(path: &Path) -> std::io::Result<RowDigests> {
    let mut json = Vec::new();
    zstd::Decoder::new(std::fs::File::open(path)?)?.read_to_end(&mut json)?;
    serde_json::from_slice(&json).map_err(std::io::Error::other)
}
