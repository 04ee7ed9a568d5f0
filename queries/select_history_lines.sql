-- select_history_lines: every write-off and reversal line of the receipts created in a date range, with the reason of its receipt (reversal lines carry the reason of the receipt they reverse) and people, the financial class of the line, whether the patient had Medicare or Medicaid coverage on the date of service, and the receipt that reversed the line, if any.
-- params: date_from DATE, date_to DATE
WITH
in_range AS (
    SELECT r.*
    FROM receipts AS r
    WHERE CAST(r.created_at AS DATE) >= $date_from
      AND CAST(r.created_at AS DATE) <= $date_to
),
government AS (  -- compliance: routine waivers for these patients are a risk (issue 6)
    SELECT c.patient_id, c.effective_from, c.effective_to
    FROM coverages AS c
    JOIN payers AS p ON p.payer_id = c.payer_id
    WHERE p.financial_class IN ('MEDICARE', 'MEDICARE_ADVANTAGE', 'MEDICAID', 'MEDICAID_MANAGED_CARE')
),
classed AS (
    SELECT
        r.*,
        w.line_no,
        w.transaction_id,
        w.charge_id,
        w.encounter_id,
        w.patient_id,
        w.bucket,
        w.payer_id,
        w.amount,
        b.date_of_service,
        -- DESIGN.md: a PATIENT line has the class charge_balances derives for its bucket; an
        -- INSURANCE line the class of the payer it was written off against (the current payer
        -- then), or, written off without one, the class charge_balances derives.
        CASE
            WHEN w.bucket = 'PATIENT' THEN b.patient_financial_class
            ELSE coalesce(p.financial_class, b.insurance_financial_class)
        END AS financial_class,
        (
            SELECT min(x.receipt_no)
            FROM writeoff_lines AS x
            WHERE x.reverses_transaction_id = w.transaction_id
        ) AS reversed_by
    FROM in_range AS r
    JOIN writeoff_lines AS w ON w.receipt_no = r.receipt_no
    LEFT JOIN charge_balances AS b ON b.charge_id = w.charge_id
    LEFT JOIN payers AS p ON p.payer_id = w.payer_id
)
SELECT
    l.receipt_no,
    CAST(l.created_at AS DATE) AS created_date,
    strftime(l.created_at, '%Y-%m') AS month,
    coalesce(o.reason_code, l.reason_code) AS reason_code,
    coalesce(o.reason_text, l.reason_text) AS reason_text,
    l.reversal_of,
    CASE WHEN l.reversal_of IS NOT NULL THEN l.reason_text END AS reversal_reason,
    coalesce(o.determination_reference, l.determination_reference) AS determination_reference,
    l.preparer,
    l.approver,
    l.line_no,
    l.transaction_id,
    l.charge_id,
    l.encounter_id,
    l.patient_id,
    l.date_of_service,
    l.bucket,
    l.payer_id,
    l.financial_class,
    l.amount,
    l.reversed_by,
    l.financial_class IN ('MEDICARE', 'MEDICARE_ADVANTAGE', 'MEDICAID', 'MEDICAID_MANAGED_CARE')
        OR EXISTS (
            SELECT 1
            FROM government AS g
            WHERE g.patient_id = l.patient_id
              AND g.effective_from <= coalesce(l.date_of_service, CAST(l.created_at AS DATE))
              AND (g.effective_to IS NULL
                   OR g.effective_to >= coalesce(l.date_of_service, CAST(l.created_at AS DATE)))
        ) AS government_patient
FROM classed AS l
LEFT JOIN receipts AS o ON o.receipt_no = l.reversal_of
ORDER BY l.seq, l.line_no
