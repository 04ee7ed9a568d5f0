-- select_interrupted_receipt: the newest receipt of this preparer, criteria, reason and as-of date whose files are still PENDING (a commit interrupted after the store committed).
-- params: preparer VARCHAR, criteria_json VARCHAR, reason_code VARCHAR, as_of DATE
SELECT receipt_no
FROM receipts
WHERE files_state = 'PENDING'
  AND reversal_of IS NULL
  AND preparer = $preparer
  AND criteria_json = $criteria_json
  AND reason_code = $reason_code
  AND as_of = $as_of
ORDER BY seq DESC
LIMIT 1
