-- insert_writeoff_lines: appends the staged lines of one receipt (staged_writeoff_lines) to writeoff_lines.
-- params: (none)
INSERT INTO writeoff_lines (
    receipt_no, line_no, transaction_id, charge_id, encounter_id, patient_id, group_key,
    bucket, payer_id, amount, balance_before, posted_date, reverses_transaction_id
)
SELECT
    receipt_no,
    line_no,
    transaction_id,
    charge_id,
    encounter_id,
    patient_id,
    group_key,
    bucket,
    payer_id,
    CAST(amount AS DECIMAL(18,2)),
    CAST(balance_before AS DECIMAL(18,2)),
    posted_date,
    reverses_transaction_id
FROM staged_writeoff_lines
ORDER BY line_no
