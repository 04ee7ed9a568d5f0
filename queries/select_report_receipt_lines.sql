-- select_report_receipt_lines: the lines of one receipt in line order, with date of service, procedure, the financial class of the line and the receipt that reversed each line, if any.
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
    -- DESIGN.md: the payer of a line is the billed payer for a PATIENT balance (a patient line
    -- stores no payer_id) and the current payer for INSURANCE; no payer is SELF_PAY.
    coalesce(
        CASE WHEN w.bucket = 'PATIENT' THEN b.billed_financial_class ELSE p.financial_class END,
        'SELF_PAY'
    ) AS financial_class,
    w.amount,
    w.posted_date,
    w.reverses_transaction_id,
    (
        SELECT min(x.receipt_no)
        FROM writeoff_lines AS x
        WHERE x.reverses_transaction_id = w.transaction_id
    ) AS reversed_by
FROM writeoff_lines AS w
LEFT JOIN charge_balances AS b ON b.charge_id = w.charge_id
LEFT JOIN payers AS p ON p.payer_id = w.payer_id
WHERE w.receipt_no = $receipt_no
ORDER BY w.line_no
