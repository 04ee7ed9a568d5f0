-- select_audit_head_meta: the newest audit event as store_meta recorded it ("<event_id> <sha256>"; no row before the first hashed event).
-- params: (none)
SELECT value
FROM store_meta
WHERE key = 'audit_head'
