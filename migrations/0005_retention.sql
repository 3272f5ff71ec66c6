-- Retention (README, "Recordings: time ranges and retention"): a campaign may keep its
-- recordings a number of days after they end (NULL: forever), and the expired ones are found
-- by the end of the recording, within its campaign.

ALTER TABLE recording_campaigns ADD COLUMN retention_days INTEGER;
CREATE INDEX recordings_campaign_end ON recordings (campaign_id, end_time);
