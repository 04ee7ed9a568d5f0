-- select_all_receipt_nos: every receipt number, in number order (verify.py checks each).
-- params: (none)
SELECT receipt_no
FROM receipts
ORDER BY seq
