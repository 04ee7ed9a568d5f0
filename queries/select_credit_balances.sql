-- select_credit_balances: lines with a credit (negative) balance in either bucket, for refund review; not_responsible marks money collected from a patient the payer forbids billing (Medicaid, QMB).
-- params: balance_type VARCHAR
WITH
credits AS (
    SELECT b.*, 'PATIENT' AS balance_type, b.patient_balance AS balance, b.billed_payer_id AS payer_id,
           coalesce(b.billed_financial_class, 'SELF_PAY') AS financial_class
    FROM charge_balances AS b
    WHERE b.patient_balance < 0
    UNION ALL
    SELECT b.*, 'INSURANCE' AS balance_type, b.insurance_balance AS balance, b.current_payer_id AS payer_id,
           coalesce(b.current_financial_class, 'SELF_PAY') AS financial_class
    FROM charge_balances AS b
    WHERE b.insurance_balance < 0
)
SELECT
    c.charge_id,
    c.encounter_id,
    c.patient_id,
    c.guarantor_id,
    c.date_of_service,
    c.balance_type,
    c.balance,
    c.payer_id,
    c.financial_class,
    c.not_responsible
FROM credits AS c
WHERE CAST($balance_type AS VARCHAR) IS NULL OR c.balance_type = $balance_type
ORDER BY c.balance_type, c.charge_id
