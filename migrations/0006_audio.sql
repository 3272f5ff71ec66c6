-- Recording audio (README, "Recording audio"): the bytes live in Spin's key-value store, in
-- chunks of at most 1 MiB under `audio/<generation>/<n>`; the recording's row says which
-- generation is its audio, with the audio's media type, size and SHA-256. NULL: no audio.

ALTER TABLE recordings ADD COLUMN audio_content_type TEXT;
ALTER TABLE recordings ADD COLUMN audio_bytes INTEGER;
ALTER TABLE recordings ADD COLUMN audio_sha256 TEXT;
ALTER TABLE recordings ADD COLUMN audio_generation TEXT;

-- Generations whose chunks are to go: one being uploaded (chunks NULL: how many is not known
-- yet), or one a replacement or a deletion let go of (chunks known). A row is removed once its
-- chunks are; a row that a crash left is dealt with the next time the recording's audio is
-- written or deleted (and those with a known count, by any audio write).
CREATE TABLE audio_leftovers (
    generation TEXT    NOT NULL PRIMARY KEY,
    cid        TEXT    NOT NULL,
    chunks     INTEGER
);
CREATE INDEX audio_leftovers_cid ON audio_leftovers (cid);
