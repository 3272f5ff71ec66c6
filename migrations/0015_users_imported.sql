-- Users imported from CSV in one statement (`POST /1.0/users/import`,
-- components/users/src/import.rs): every row rides in one JSON parameter, so that the import
-- is whole or nothing on a file and on a libSQL server alike, and holds the write lock only
-- while that statement runs. A row's voicemail rides in `set_voicemail` (JSON: mailbox,
-- fullname, password, email, attach, skipcheckpass, deleteaftersend), turned into the
-- voicemail by the trigger below and cleared, as `set_line` is (0010). The API never shows it.
ALTER TABLE users ADD COLUMN set_voicemail TEXT;

CREATE TRIGGER users_voicemail_created AFTER INSERT ON users
WHEN NEW.set_voicemail IS NOT NULL
BEGIN
    INSERT INTO voicemails (mailbox, fullname, password, email, attach, skipcheckpass,
                            deleteaftersend)
    SELECT json_extract(v, '$.mailbox'), json_extract(v, '$.fullname'),
           json_extract(v, '$.password'), json_extract(v, '$.email'),
           json_extract(v, '$.attach'), json_extract(v, '$.skipcheckpass'),
           json_extract(v, '$.deleteaftersend')
    FROM (SELECT NEW.set_voicemail AS v);
    UPDATE users SET set_voicemail = NULL,
        voicemailid = (SELECT id FROM voicemails
                       WHERE mailbox = json_extract(NEW.set_voicemail, '$.mailbox'))
        WHERE id = NEW.id;
END;
