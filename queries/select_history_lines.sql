-- select_history_lines: every write-off and reversal line of the receipts created in a date range, with its receipt's reason and people, the payer's financial class and whether the patient had Medicare or Medicaid coverage on the date of service.
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
)
SELECT
    r.receipt_no,
    CAST(r.created_at AS DATE) AS created_date,
    strftime(r.created_at, '%Y-%m') AS month,
    r.reason_code,
    r.reason_text,
    r.reversal_of,
    r.determination_reference,
    r.preparer,
    r.approver,
    w.line_no,
    w.transaction_id,
    w.charge_id,
    w.encounter_id,
    w.patient_id,
    b.date_of_service,
    w.bucket,
    w.payer_id,
    coalesce(p.financial_class, 'SELF_PAY') AS financial_class,
    w.amount,
    coalesce(p.financial_class, '') IN ('MEDICARE', 'MEDICARE_ADVANTAGE', 'MEDICAID', 'MEDICAID_MANAGED_CARE')
        OR EXISTS (
            SELECT 1
            FROM government AS g
            WHERE g.patient_id = w.patient_id
              AND g.effective_from <= coalesce(b.date_of_service, CAST(r.created_at AS DATE))
              AND (g.effective_to IS NULL
                   OR g.effective_to >= coalesce(b.date_of_service, CAST(r.created_at AS DATE)))
        ) AS government_patient
FROM in_range AS r
JOIN writeoff_lines AS w ON w.receipt_no = r.receipt_no
LEFT JOIN charge_balances AS b ON b.charge_id = w.charge_id
LEFT JOIN payers AS p ON p.payer_id = w.payer_id
ORDER BY r.seq, w.line_no
