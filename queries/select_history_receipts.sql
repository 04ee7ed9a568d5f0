-- select_history_receipts: the receipts created in a date range, in number order.
-- params: date_from DATE, date_to DATE
SELECT
    r.receipt_no,
    CAST(r.created_at AS DATE) AS created_date,
    r.preparer,
    r.approver,
    r.reason_code,
    r.reason_text,
    r.reversal_of,
    r.determination_reference,
    r.note,
    r.line_count,
    r.total_amount
FROM receipts AS r
WHERE CAST(r.created_at AS DATE) >= $date_from
  AND CAST(r.created_at AS DATE) <= $date_to
ORDER BY r.seq
