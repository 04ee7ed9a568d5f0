-- select_audit_log: every audit event, oldest first.
-- params: (none)
SELECT event_id, occurred_at, user_name, action, outcome, receipt_no, detail
FROM audit_log
ORDER BY event_id
