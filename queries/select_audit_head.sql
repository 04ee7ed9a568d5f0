-- select_audit_head: the newest audit event's id and SHA-256 (no row when the log is empty); the next event chains to it.
-- params: (none)
SELECT event_id, event_sha256
FROM audit_log
ORDER BY event_id DESC
LIMIT 1
