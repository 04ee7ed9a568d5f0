-- insert_writeoff_lines: appends the staged lines of one receipt (staged_writeoff_lines) to writeoff_lines, each with the identity of the charge it was made on (issue 14: a write-off line takes the loaded charge's, a reversal line the identity of the line it reverses).
-- params: (none)
INSERT INTO writeoff_lines (
    receipt_no, line_no, transaction_id, charge_id, encounter_id, patient_id, group_key,
    bucket, payer_id, amount, balance_before, posted_date, reverses_transaction_id,
    charge_date_of_service, charge_procedure_code, charge_amount
)
SELECT
    s.receipt_no,
    s.line_no,
    s.transaction_id,
    s.charge_id,
    s.encounter_id,
    s.patient_id,
    s.group_key,
    s.bucket,
    s.payer_id,
    CAST(s.amount AS DECIMAL(18,2)),
    CAST(s.balance_before AS DECIMAL(18,2)),
    s.posted_date,
    s.reverses_transaction_id,
    CASE WHEN s.reverses_transaction_id IS NULL THEN e.date_of_service ELSE o.charge_date_of_service END,
    CASE WHEN s.reverses_transaction_id IS NULL THEN ch.procedure_code ELSE o.charge_procedure_code END,
    CASE WHEN s.reverses_transaction_id IS NULL THEN ch.charge_amount ELSE o.charge_amount END
FROM staged_writeoff_lines AS s
LEFT JOIN charges AS ch
  ON ch.charge_id = s.charge_id
LEFT JOIN encounters AS e
  ON e.encounter_id = ch.encounter_id
LEFT JOIN writeoff_lines AS o
  ON o.transaction_id = s.reverses_transaction_id
ORDER BY s.line_no
