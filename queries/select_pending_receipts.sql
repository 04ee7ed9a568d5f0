-- select_pending_receipts: receipts whose files are not known to be written (crash protocol), in order.
-- params: (none)
SELECT receipt_no
FROM receipts
WHERE files_state = 'PENDING'
ORDER BY seq
