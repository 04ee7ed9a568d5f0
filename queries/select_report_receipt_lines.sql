-- select_report_receipt_lines: the lines of one receipt in line order, with date of service, procedure and the payer's financial class.
-- params: receipt_no VARCHAR
SELECT
    w.line_no,
    w.transaction_id,
    w.charge_id,
    w.encounter_id,
    w.patient_id,
    w.group_key,
    b.date_of_service,
    b.procedure_code,
    w.bucket,
    w.payer_id,
    coalesce(p.financial_class, 'SELF_PAY') AS financial_class,  -- DESIGN.md: no payer is SELF_PAY
    w.amount,
    w.posted_date,
    w.reverses_transaction_id
FROM writeoff_lines AS w
LEFT JOIN charge_balances AS b ON b.charge_id = w.charge_id
LEFT JOIN payers AS p ON p.payer_id = w.payer_id
WHERE w.receipt_no = $receipt_no
ORDER BY w.line_no
