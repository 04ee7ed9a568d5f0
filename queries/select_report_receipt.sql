-- select_report_receipt: one committed receipt (write-off batch or reversal), with the receipt that reversed it, if any.
-- params: receipt_no VARCHAR
SELECT
    r.*,
    (SELECT min(x.receipt_no) FROM receipts AS x WHERE x.reversal_of = r.receipt_no) AS reversed_by
FROM receipts AS r
WHERE r.receipt_no = $receipt_no
