-- select_receipt_lines: the lines of one receipt, with the receipt that reversed each line, if any.
-- params: receipt_no VARCHAR
SELECT
    w.receipt_no,
    w.line_no,
    w.transaction_id,
    w.charge_id,
    w.encounter_id,
    w.patient_id,
    w.group_key,
    w.bucket,
    w.payer_id,
    w.amount,
    w.balance_before,
    w.posted_date,
    w.reverses_transaction_id,
    r.receipt_no AS reversed_by
FROM writeoff_lines AS w
LEFT JOIN writeoff_lines AS r
  ON r.reverses_transaction_id = w.transaction_id
WHERE w.receipt_no = $receipt_no
ORDER BY w.line_no
