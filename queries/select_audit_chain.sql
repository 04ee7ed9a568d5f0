-- select_audit_chain: every audit event with its hashes, oldest first (what verify.py checks the chain on).
-- params: (none)
SELECT event_id, occurred_at, user_name, action, outcome, receipt_no, detail, prev_sha256, event_sha256
FROM audit_log
ORDER BY event_id
