-- upsert_audit_head: records the newest audit event ("<event_id> <sha256>") in store_meta, so that deleting the last events shows too.
-- params: head VARCHAR
INSERT INTO store_meta
VALUES ('audit_head', $head)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
