//! A recording's audio: the bytes in Spin's key-value store, in chunks under
//! `audio/<generation>/<n>`, and the SQL that says which generation is whose (the audio
//! columns of the recording's row; the rest of the row is the campaigns component's).
//!
//! Chunks are `audio_chunk_bytes` long (the last may be shorter): 1 MiB unless that Spin
//! variable says otherwise, for hosts that cap a value below 1 MiB (Fermyon Cloud: 1 MB). An
//! audio keeps the chunk size it was written with, so changing the variable never changes how
//! an audio already stored is read.
//!
//! Nothing half-written is ever visible. An upload writes its chunks under a new generation,
//! registered first as a leftover (`audio_leftovers`, count unknown), then switches the
//! recording's row to it in one transaction that also registers the generation it replaces;
//! only then do the old chunks go. A crash at any point leaves the row on a complete audio and
//! a leftover row naming the chunks to remove, which the next write or deletion of that
//! recording's audio removes. An upload that starts while another to the same recording is
//! under way removes the other's chunks: the later upload wins, and the earlier one answers
//! 409 at its switch. A download of an audio that a replacement removes meanwhile is cut
//! short (fewer bytes than its `Content-Length`).
//!
//! The component holds at most a chunk and a piece of the body in memory, either way.

use common::{
    db::Db,
    hex,
    http::{Body, Stream},
    negotiation, params, random,
    resource::again_while_changed,
    stored_audio::{self, key, open_store, remove, Audio, Leftover, DEFAULT_CHUNK_BYTES},
    ApiError,
};
use sha2::{Digest, Sha256};
use spin_sdk::key_value::Store;

use crate::sniff;

/// The chunk sizes `audio_chunk_bytes` may set: a chunk is held in memory whole, and every
/// chunk is a key (a store may count them: Fermyon Cloud allows 1,024).
const CHUNK_BYTES: std::ops::RangeInclusive<u64> = 4096..=(16 << 20);

/// The largest audio, in bytes, unless the Spin variable `audio_max_bytes` says otherwise.
const MAX_BYTES: u64 = 64 << 20;

/// How much of an upload past the limit is read and dropped before answering 413, so that the
/// client gets the answer rather than a connection reset.
const DRAIN_BYTES: usize = 4 << 20;

/// How many leftovers of other recordings (already let go, so safe to remove) an audio write
/// removes on its way, so that the remains of deleted recordings do not stay forever.
const OTHER_LEFTOVERS: i64 = 4;

/// How uploads are capped and cut.
pub struct Settings {
    /// The largest audio accepted.
    pub max_bytes: u64,
    /// The size of the chunks an upload is written in.
    pub chunk_bytes: u64,
}

impl Settings {
    /// The Spin variables `audio_max_bytes` (else 64 MiB) and `audio_chunk_bytes` (else
    /// 1 MiB; a size outside [`CHUNK_BYTES`] is logged and not used).
    pub fn from_variables() -> Self {
        let variable = |name| spin_sdk::variables::get(name).ok();
        let max_bytes = variable("audio_max_bytes")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(MAX_BYTES);
        let chunk_bytes = match variable("audio_chunk_bytes") {
            None => DEFAULT_CHUNK_BYTES,
            Some(v) => match v.trim().parse() {
                Ok(n) if CHUNK_BYTES.contains(&n) => n,
                _ => {
                    eprintln!(
                        "audio_chunk_bytes = \"{v}\" is not a size from {} to {}: chunks of {} bytes",
                        CHUNK_BYTES.start(),
                        CHUNK_BYTES.end(),
                        DEFAULT_CHUNK_BYTES
                    );
                    DEFAULT_CHUNK_BYTES
                }
            },
        };
        Self {
            max_bytes,
            chunk_bytes,
        }
    }
}

/// Remove what is left over of this recording's audio (a crash's remains, or an upload that
/// the caller's write supersedes), and a few leftovers of other recordings already let go.
pub fn clear(db: &Db, cid: &str) -> Result<(), ApiError> {
    let rows = db.query(
        "SELECT generation, chunks FROM audio_leftovers WHERE cid = ? \
         UNION SELECT generation, chunks FROM \
         (SELECT generation, chunks FROM audio_leftovers WHERE chunks IS NOT NULL LIMIT ?)",
        &params![cid, OTHER_LEFTOVERS],
    )?;
    let leftovers = rows.map(|row| {
        Ok(Leftover {
            generation: row.text("generation")?,
            chunks: row
                .opt_int("chunks")?
                .map(|n| u64::try_from(n).unwrap_or(0)),
        })
    })?;
    remove(db, &leftovers);
    Ok(())
}

/// What an upload did: the audio now in place, and whether it replaced one.
pub struct Upload {
    pub audio: Audio,
    pub replaced: bool,
}

/// The message of an upload that a later upload to the same recording overtook.
pub const OVERTAKEN: &str = "Conflict: another upload replaced this audio meanwhile";

/// Store the body as the audio of an existing recording (404), `content_type` being an
/// `audio/*` type or `application/octet-stream` (then the type its first bytes show, if any),
/// at most `settings.max_bytes` bytes (413, and nothing changes).
pub fn upload(
    db: &Db,
    campaign_id: i64,
    cid: &str,
    content_type: String,
    body: &mut Body,
    settings: &Settings,
) -> Result<Upload, ApiError> {
    find(db, campaign_id, cid)?.ok_or(ApiError::NotFound)?;
    clear(db, cid)?;
    let store = open_store()?;
    let generation = random::hex(16);
    db.write(
        "INSERT INTO audio_leftovers (generation, cid, chunks) VALUES (?, ?, NULL)",
        &params![generation, cid],
    )?;
    let mine = |chunks| Leftover {
        generation: generation.clone(),
        chunks: Some(chunks),
    };
    let (bytes, sha256, head) = match write_chunks(&store, &generation, body, settings) {
        Ok(written) => written,
        Err((e, chunks)) => {
            remove(db, &[mine(chunks)]);
            return Err(e);
        }
    };
    let content_type = if content_type == negotiation::OCTET_STREAM {
        sniff::audio_type(&head).map_or(content_type, str::to_string)
    } else {
        content_type
    };
    let audio = Audio {
        content_type,
        bytes,
        sha256,
        generation: generation.clone(),
        chunk_bytes: settings.chunk_bytes,
    };
    // Set in place by one statement, while the upload's chunks are still its own (a later
    // upload's clearing takes their leftovers row: 409) and the audio it replaces is the one
    // just read (else read again).
    let switched = again_while_changed(|| {
        let existing = find(db, campaign_id, cid)?.ok_or(ApiError::NotFound)?;
        let was = existing.as_ref().map(|a| a.generation.as_str());
        if set(db, campaign_id, cid, Some(&audio), was)? {
            return Ok(Some(existing));
        }
        let claimed = db.exists(
            "SELECT COUNT(*) FROM audio_leftovers WHERE generation = ?",
            &params![generation],
        )?;
        if claimed {
            Ok(None)
        } else {
            Err(ApiError::Conflict(vec![OVERTAKEN.to_string()]))
        }
    });
    match switched {
        Ok(replaced) => {
            let was = replaced.is_some();
            remove(db, &replaced.iter().map(Leftover::of).collect::<Vec<_>>());
            Ok(Upload {
                audio,
                replaced: was,
            })
        }
        Err(e) => {
            remove(db, &[mine(audio.chunks())]);
            Err(e)
        }
    }
}

/// Write the body in chunks under `generation`: its size, SHA-256 (hex) and first bytes, or
/// the error and how many chunks may have been written.
fn write_chunks(
    store: &Store,
    generation: &str,
    body: &mut Body,
    settings: &Settings,
) -> Result<(u64, String, Vec<u8>), (ApiError, u64)> {
    let size = usize::try_from(settings.chunk_bytes).unwrap_or(usize::MAX);
    let mut sha256 = Sha256::new();
    let mut chunk = Vec::with_capacity(size);
    let mut head = Vec::with_capacity(sniff::HEAD_BYTES);
    let (mut bytes, mut chunks) = (0u64, 0u64);
    let save = |chunk: &mut Vec<u8>, chunks: &mut u64| {
        *chunks += 1;
        store
            .set(&key(generation, *chunks - 1), chunk)
            .map_err(|e| (ApiError::from(e), *chunks))?;
        chunk.clear();
        Ok(())
    };
    while let Some(piece) = body.read(size - chunk.len()).map_err(|e| (e, chunks))? {
        bytes += piece.len() as u64;
        if bytes > settings.max_bytes {
            body.drain(DRAIN_BYTES);
            return Err((ApiError::PayloadTooLarge, chunks));
        }
        sha256.update(&piece);
        let wanted = (sniff::HEAD_BYTES - head.len()).min(piece.len());
        head.extend_from_slice(&piece[..wanted]);
        chunk.extend_from_slice(&piece);
        if chunk.len() == size {
            save(&mut chunk, &mut chunks)?;
        }
    }
    if !chunk.is_empty() {
        save(&mut chunk, &mut chunks)?;
    }
    Ok((bytes, hex::encode(&sha256.finalize()), head))
}

/// Bytes `first` to `first + length - 1` of an audio, read a chunk at a time as the response
/// is sent.
pub fn stream(audio: &Audio, first: u64, length: u64) -> Result<Stream, ApiError> {
    let store = open_store()?;
    let generation = audio.generation.clone();
    let size = audio.chunk_bytes.max(1);
    let end = first + length;
    let chunks = if length == 0 {
        0..0
    } else {
        first / size..(end - 1) / size + 1
    };
    let pieces = chunks.map(move |n| {
        let mut data = store
            .get(&key(&generation, n))
            .map_err(|e| format!("key-value: {}", common::host_error::key_value(&e)))?
            .ok_or_else(|| format!("chunk {n} of audio {generation} is gone (replaced?)"))?;
        let start = n * size;
        let to = usize::try_from((end - start).min(data.len() as u64)).unwrap_or(usize::MAX);
        data.truncate(to);
        data.drain(..usize::try_from(first.saturating_sub(start)).unwrap_or(0));
        Ok(data)
    });
    Ok(Stream {
        length: Some(length),
        pieces: Box::new(pieces),
    })
}

/// Remove a recording's audio (404 when it has none), in one statement (its chunks become a
/// leftover, which is then removed); the audio it was.
pub fn delete(db: &Db, campaign_id: i64, cid: &str) -> Result<Audio, ApiError> {
    let deleted = again_while_changed(|| {
        let existing = find(db, campaign_id, cid)?.ok_or(ApiError::NotFound)?;
        let audio = existing.ok_or(ApiError::NotFound)?;
        let removed = set(db, campaign_id, cid, None, Some(&audio.generation))?;
        Ok(removed.then_some(audio))
    })?;
    clear(db, cid)?;
    Ok(deleted)
}

/// The recording's audio, `Some(None)` when it has none; `None` when there is no such
/// recording in the campaign.
pub fn find(db: &Db, campaign_id: i64, cid: &str) -> Result<Option<Option<Audio>>, ApiError> {
    let sql = format!(
        "SELECT {} FROM recordings WHERE cid = ? AND campaign_id = ?",
        stored_audio::COLUMNS
    );
    db.query_one(&sql, &params![cid, campaign_id], stored_audio::read)
}

/// Set (or, with `None`, remove) a recording's audio, in one statement, only while its audio
/// is still `was` (its generation) and, when setting, while the new audio's chunks are still
/// the upload's own (their leftovers row, which a later upload's clearing takes away); its
/// version moves on, and the audio it had becomes a leftover (a trigger). `false` when the
/// recording is gone or either condition failed.
fn set(
    db: &Db,
    campaign_id: i64,
    cid: &str,
    audio: Option<&Audio>,
    was: Option<&str>,
) -> Result<bool, ApiError> {
    let written = db.write(
        "UPDATE recordings SET audio_content_type = ?, audio_bytes = ?, audio_sha256 = ?, \
         audio_generation = ?, audio_chunk_bytes = ?, version = version + 1 \
         WHERE campaign_id = ? AND cid = ? AND audio_generation IS ? \
         AND (? IS NULL OR EXISTS (SELECT 1 FROM audio_leftovers WHERE generation = ?)) \
         RETURNING cid",
        &params![
            audio.map(|a| a.content_type.as_str()),
            audio.map(|a| i64::try_from(a.bytes).unwrap_or(i64::MAX)),
            audio.map(|a| a.sha256.as_str()),
            audio.map(|a| a.generation.as_str()),
            audio.map(|a| i64::try_from(a.chunk_bytes).unwrap_or(i64::MAX)),
            campaign_id,
            cid,
            was,
            audio.map(|a| a.generation.as_str()),
            audio.map(|a| a.generation.as_str()),
        ],
    )?;
    Ok(!written.is_empty())
}
