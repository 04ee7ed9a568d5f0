-- select_receipt: one receipt by number (no row if unknown).
-- params: receipt_no VARCHAR
SELECT *
FROM receipts
WHERE receipt_no = $receipt_no
