-- select_next_receipt_seq: the next receipt sequence number (receipts are never deleted, so numbers are never reused).
-- params: (none)
SELECT coalesce(max(seq), 0) + 1 AS seq
FROM receipts
