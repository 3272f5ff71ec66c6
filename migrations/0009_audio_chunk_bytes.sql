-- The size of the chunks an audio was written in (Spin variable `audio_chunk_bytes`; README,
-- "Recording audio"), so that an audio is read as it was written whatever the variable says
-- now. NULL: an audio written before this column, in chunks of 1 MiB.

ALTER TABLE recordings ADD COLUMN audio_chunk_bytes INTEGER;
