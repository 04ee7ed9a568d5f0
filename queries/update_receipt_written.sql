-- update_receipt_written: marks a receipt's files as written (the last step of the crash protocol).
-- params: receipt_no VARCHAR
UPDATE receipts
SET files_state = 'WRITTEN'
WHERE receipt_no = $receipt_no
