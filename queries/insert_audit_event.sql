-- insert_audit_event: appends one event to the audit log (the log is never updated or deleted from); audit.py computes the id, time and hashes.
-- params: event_id INTEGER, occurred_at TIMESTAMP, user_name VARCHAR, action VARCHAR, outcome VARCHAR, receipt_no VARCHAR, detail VARCHAR, prev_sha256 VARCHAR, event_sha256 VARCHAR
INSERT INTO audit_log (
    event_id, occurred_at, user_name, action, outcome, receipt_no, detail, prev_sha256, event_sha256
)
VALUES (
    $event_id,
    $occurred_at,
    $user_name,
    $action,
    $outcome,
    $receipt_no,
    $detail,
    $prev_sha256,
    $event_sha256
)
RETURNING event_id
