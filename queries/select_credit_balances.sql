-- select_credit_balances: charge lines with a credit (negative) balance in a bucket, for refund review (never candidates).
-- params: balance_type VARCHAR, medicaid_classes VARCHAR[]
WITH
credits AS (
    SELECT
        b.charge_id,
        b.encounter_id,
        b.patient_id,
        b.guarantor_id,
        b.date_of_service,
        b.procedure_code,
        'PATIENT' AS balance_type,
        b.billed_payer_id AS payer_id,
        b.patient_financial_class AS financial_class,
        b.patient_balance AS balance,
        b.not_responsible
    FROM charge_balances AS b
    WHERE b.patient_balance < 0
    UNION ALL
    SELECT
        b.charge_id,
        b.encounter_id,
        b.patient_id,
        b.guarantor_id,
        b.date_of_service,
        b.procedure_code,
        'INSURANCE' AS balance_type,
        b.current_payer_id AS payer_id,
        b.insurance_financial_class AS financial_class,
        b.insurance_balance AS balance,
        b.not_responsible
    FROM charge_balances AS b
    WHERE b.insurance_balance < 0
)
SELECT
    charge_id,
    encounter_id,
    patient_id,
    guarantor_id,
    date_of_service,
    procedure_code,
    balance_type,
    payer_id,
    financial_class,
    CAST(balance AS DECIMAL(18,2)) AS balance,
    not_responsible,
    -- money collected that may have to go back: not responsible on the date of service
    -- (Medicaid-type coverage, QMB, profile flag) or a Medicaid-class payer on the line
    (not_responsible OR coalesce(list_contains(CAST($medicaid_classes AS VARCHAR[]), financial_class), FALSE))
        AS medicaid_or_qmb
FROM credits
WHERE CAST($balance_type AS VARCHAR) IS NULL OR balance_type = $balance_type
ORDER BY charge_id, balance_type
