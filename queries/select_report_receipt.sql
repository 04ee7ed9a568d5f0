-- select_report_receipt: one committed receipt (write-off batch or reversal), with the receipts that reversed lines of it and, for a reversal, what the reversed receipt was.
-- params: receipt_no VARCHAR
SELECT
    r.*,
    (
        SELECT string_agg(x.receipt_no, ', ' ORDER BY x.receipt_no)
        FROM receipts AS x
        WHERE x.reversal_of = r.receipt_no
    ) AS reversed_by,
    o.reason_code AS original_reason_code,
    o.created_at AS original_created_at,
    o.line_count AS original_line_count,
    o.total_amount AS original_total_amount
FROM receipts AS r
LEFT JOIN receipts AS o ON o.receipt_no = r.reversal_of
WHERE r.receipt_no = $receipt_no
