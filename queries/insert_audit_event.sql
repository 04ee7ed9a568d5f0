-- insert_audit_event: appends one event to the audit log (the log is never updated or deleted from).
-- params: user_name VARCHAR, action VARCHAR, outcome VARCHAR, receipt_no VARCHAR, detail VARCHAR
INSERT INTO audit_log
SELECT
    coalesce(max(event_id), 0) + 1,
    current_localtimestamp(),
    $user_name,
    $action,
    $outcome,
    $receipt_no,
    $detail
FROM audit_log
RETURNING event_id
