//! One store file: a header (magic, format version, payload length, CRC-32
//! of the payload) and the payload. Written to a temporary name, fsynced,
//! renamed over the final name, and the directory fsynced: a reader sees
//! the old file or the new one, never a mix.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::StoreError;

const MAGIC: &[u8; 8] = b"FATHOMST";
const VERSION: u32 = 1;
const HEADER_BYTES: usize = 8 + 4 + 8 + 4;
const _: () = assert!(
    MAGIC.len() == 8,
    "the header's layout starts with 8 magic bytes"
);

/// Writes `payload` to `dir/name` atomically and durably.
pub fn write_atomic(dir: &Path, name: &str, payload: &[u8]) -> Result<(), StoreError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut header = Vec::with_capacity(HEADER_BYTES);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    header.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    debug_assert_eq!(header.len(), HEADER_BYTES);
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(&header)?;
        f.write_all(payload)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| StoreError::io(&path, e))?;
    // The pair check after the write, in debug builds: what is on disk
    // reads back as the payload (header, length and CRC included).
    debug_assert!(
        read_checked(&path).is_ok_and(|back| back == payload),
        "{} reads back as written",
        path.display()
    );
    Ok(())
}

/// Reads a file written by [`write_atomic`], checking its header and CRC.
pub fn read_checked(path: &Path) -> Result<Vec<u8>, StoreError> {
    let bytes = std::fs::read(path).map_err(|e| StoreError::io(path, e))?;
    if bytes.len() < HEADER_BYTES {
        return Err(StoreError::corrupt(path, "shorter than its header"));
    }
    if &bytes[..8] != MAGIC {
        return Err(StoreError::corrupt(path, "not a Fathom store file"));
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default());
    if word(8) != VERSION {
        return Err(StoreError::corrupt(
            path,
            format!("format version {} (this build reads {VERSION})", word(8)),
        ));
    }
    let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap_or_default());
    let payload = &bytes[HEADER_BYTES..];
    if payload.len() as u64 != len {
        return Err(StoreError::corrupt(
            path,
            format!("{} payload bytes, header says {len}", payload.len()),
        ));
    }
    if crc32fast::hash(payload) != word(20) {
        return Err(StoreError::corrupt(path, "checksum mismatch"));
    }
    Ok(payload.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_corruption_is_caught() {
        let dir = tempfile::tempdir().expect("temp dir");
        let payload: Vec<u8> = (0..1000u32).flat_map(|i| i.to_le_bytes()).collect();
        write_atomic(dir.path(), "f", &payload).expect("write");
        let path = dir.path().join("f");
        assert_eq!(read_checked(&path).expect("read"), payload);
        let good = std::fs::read(&path).expect("bytes");
        // Flip each of a spread of bytes, header and payload: always caught.
        for at in (0..good.len()).step_by(97).chain([0, 9, 13, 21]) {
            let mut bad = good.clone();
            bad[at] ^= 0x40;
            std::fs::write(&path, &bad).expect("write corrupt");
            assert!(
                matches!(read_checked(&path), Err(StoreError::Corrupt { .. })),
                "byte {at}"
            );
        }
        // Truncated anywhere: caught.
        for cut in [0, 5, HEADER_BYTES, good.len() - 1] {
            std::fs::write(&path, &good[..cut]).expect("write truncated");
            assert!(
                matches!(read_checked(&path), Err(StoreError::Corrupt { .. })),
                "cut {cut}"
            );
        }
    }
}
