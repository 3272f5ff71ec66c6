//! A recording's audio as it is stored: its description in the recording's row ([`Audio`],
//! [`COLUMNS`]), its chunks in Spin's key-value store ([`key`]), and the removal of the chunks
//! an audio let go ([`Leftover`], [`remove`]). Shared by the component that serves the audio
//! (`components/audio`) and the one whose recordings show it and delete it with them
//! (`components/campaigns`).

use spin_sdk::key_value::Store;

use crate::{
    db::{Db, Row},
    error::ApiError,
    params,
};

/// A chunk's size, in bytes (one key-value entry), unless `audio_chunk_bytes` says otherwise.
pub const DEFAULT_CHUNK_BYTES: u64 = 1 << 20;

/// A recording's audio, as its recording shows it: `{"content_type", "bytes", "sha256"}`.
#[derive(serde::Serialize, Debug, Clone, PartialEq)]
pub struct Audio {
    pub content_type: String,
    pub bytes: u64,
    /// Hex, lower case.
    pub sha256: String,
    /// Where its chunks are in the key-value store ([`key`]); not shown.
    #[serde(skip)]
    pub generation: String,
    /// The size of its chunks (the last may be shorter), as they were written; not shown.
    #[serde(skip)]
    pub chunk_bytes: u64,
}

impl Audio {
    /// How many chunks hold it.
    pub fn chunks(&self) -> u64 {
        self.bytes.div_ceil(self.chunk_bytes.max(1))
    }
}

/// The audio columns of a recording's row, as a statement selects or returns them for
/// [`read`].
pub const COLUMNS: &str =
    "audio_content_type, audio_bytes, audio_sha256, audio_generation, audio_chunk_bytes";

/// A row's audio, if it has one. A chunk size of NULL is an audio written before chunk sizes
/// were kept (migration 0009), in chunks of [`DEFAULT_CHUNK_BYTES`].
pub fn read(row: &Row) -> Result<Option<Audio>, ApiError> {
    let Some(generation) = row.opt_text("audio_generation")? else {
        return Ok(None);
    };
    Ok(Some(Audio {
        content_type: row.text("audio_content_type")?,
        bytes: u64::try_from(row.int("audio_bytes")?).unwrap_or(0),
        sha256: row.text("audio_sha256")?,
        generation,
        chunk_bytes: row
            .opt_int("audio_chunk_bytes")?
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(DEFAULT_CHUNK_BYTES),
    }))
}

/// The key of chunk `n` of a generation.
pub fn key(generation: &str, n: u64) -> String {
    format!("audio/{generation}/{n}")
}

/// A generation whose chunks are to go once the transaction that let go of it has committed.
#[derive(Debug, PartialEq)]
pub struct Leftover {
    pub generation: String,
    /// `None` for an upload's own generation before it knows its count.
    pub chunks: Option<u64>,
}

impl Leftover {
    /// An audio let go (the schema keeps its leftovers row: `migrations/0010_...`).
    pub fn of(audio: &Audio) -> Self {
        Leftover {
            generation: audio.generation.clone(),
            chunks: Some(audio.chunks()),
        }
    }
}

pub fn open_store() -> Result<Store, ApiError> {
    Ok(Store::open_default()?)
}

/// Remove the leftovers' chunks, last first (a removal cut short leaves chunks `0..k`, which
/// the next one finds), then their rows. A failure is logged, and the row stays for the next
/// time: the request that cleans up has done its own work already.
pub fn remove(db: &Db, leftovers: &[Leftover]) {
    if leftovers.is_empty() {
        return;
    }
    let removed = open_store().and_then(|store| {
        for leftover in leftovers {
            let generation = &leftover.generation;
            let count = match leftover.chunks {
                Some(count) => count,
                None => {
                    let mut n = 0;
                    while store.exists(&key(generation, n))? {
                        n += 1;
                    }
                    n
                }
            };
            for n in (0..count).rev() {
                store.delete(&key(generation, n))?;
            }
            db.write(
                "DELETE FROM audio_leftovers WHERE generation = ?",
                &params![generation],
            )?;
        }
        Ok(())
    });
    if let Err(e) = removed {
        eprintln!("audio leftovers stay for next time: {e}");
    }
}
