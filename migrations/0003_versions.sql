-- A version with every row a client can read by id, for ETag / If-Match (README,
-- "Conditional requests"). Every write that changes what the API shows of a row adds one to
-- its version, in the same statement or transaction (components/common/src/table.rs).

ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE voicemails ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE agents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE queues ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE recording_campaigns ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE recordings ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
