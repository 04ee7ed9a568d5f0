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
    -- DESIGN.md: a PATIENT line (it stores no payer_id) has the class charge_balances derives
    -- for its bucket; an INSURANCE line the class of the payer it was written off against (the
    -- current payer then), or, written off without one, the class charge_balances derives.
    CASE
        WHEN w.bucket = 'PATIENT' THEN b.patient_financial_class
        ELSE coalesce(p.financial_class, b.insurance_financial_class)
    END AS financial_class,
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
