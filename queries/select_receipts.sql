-- select_receipts: receipts by number and/or creation date range (inclusive), in number order.
-- params: receipt_no VARCHAR, date_from DATE, date_to DATE
SELECT
    receipt_no,
    created_at,
    preparer,
    approver,
    balance_type,
    reason_code,
    reason_text,
    line_count,
    total_amount,
    reversal_of,
    files_state
FROM receipts
WHERE (CAST($receipt_no AS VARCHAR) IS NULL OR receipt_no = $receipt_no)
  AND (CAST($date_from AS DATE) IS NULL OR CAST(created_at AS DATE) >= $date_from)
  AND (CAST($date_to AS DATE) IS NULL OR CAST(created_at AS DATE) <= $date_to)
ORDER BY seq
