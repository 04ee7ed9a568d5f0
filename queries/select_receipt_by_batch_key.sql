-- select_receipt_by_batch_key: the receipt number a batch was committed as (no row if never).
-- params: batch_key VARCHAR
SELECT receipt_no
FROM receipts
WHERE batch_key = $batch_key
