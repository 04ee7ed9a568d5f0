-- select_candidate_lines: the candidate lines of one criteria set (CRITERIA.md), in the column order of candidates.LINE_SCHEMA, sorted by group_key, charge_id.
-- params: balance_type VARCHAR, write_off_by VARCHAR, responsibility VARCHAR, role_priority INTEGER, financial_classes VARCHAR[], payer_ids VARCHAR[], dos_from DATE, dos_to DATE, min_age_days INTEGER, max_age_days INTEGER, payment_cutoff DATE, min_balance DECIMAL(18,2), max_balance DECIMAL(18,2), patient_ids VARCHAR[], encounter_ids VARCHAR[], provider_ids VARCHAR[], location_ids VARCHAR[], procedure_codes VARCHAR[], deceased BOOLEAN, financial_hardship BOOLEAN, as_of DATE
WITH
-- The line as the chosen bucket sees it: its balance, its payer and class, its age.
lines AS (
    SELECT
        b.charge_id,
        b.encounter_id,
        b.patient_id,
        b.guarantor_id,
        CASE $write_off_by
            WHEN 'GUARANTOR' THEN coalesce(b.guarantor_id, b.patient_id)
            WHEN 'PATIENT' THEN b.patient_id
            WHEN 'ENCOUNTER' THEN b.encounter_id
            ELSE b.charge_id
        END AS group_key,
        b.date_of_service,
        CAST(CAST($as_of AS DATE) - b.date_of_service AS INTEGER) AS age_days,
        b.procedure_code,
        b.provider_id,
        b.location_id,
        -- docs/DESIGN.md: PATIENT -> the billed payer; INSURANCE -> the current payer.
        CASE WHEN $balance_type = 'PATIENT' THEN b.billed_payer_id ELSE b.current_payer_id END AS payer_id,
        CASE WHEN $balance_type = 'PATIENT' THEN b.patient_financial_class ELSE b.insurance_financial_class END
            AS financial_class,
        CASE
            WHEN $balance_type = 'INSURANCE' THEN 'INSURANCE'
            WHEN b.not_responsible THEN 'NOT_RESPONSIBLE'
            WHEN b.billed_payer_id IS NOT NULL THEN 'AFTER_INSURANCE_PATIENT_RESPONSIBLE'
            ELSE 'SELF_PAY'
        END AS responsibility,
        CAST($balance_type AS VARCHAR) AS balance_type,
        CASE WHEN $balance_type = 'PATIENT' THEN b.patient_balance ELSE b.insurance_balance END AS balance,
        b.insurance_balance,
        b.billed_payer_id,
        b.not_responsible,
        b.current_payer_role,
        b.last_patient_payment_date,
        b.deceased_date,
        b.financial_hardship
    FROM charge_balances AS b
    -- issue 14: a quarantined charge is held out of every search until a clean load.
    WHERE NOT b.quarantined
      AND (CAST($patient_ids AS VARCHAR[]) IS NULL OR list_contains($patient_ids, b.patient_id))
      AND (CAST($encounter_ids AS VARCHAR[]) IS NULL OR list_contains($encounter_ids, b.encounter_id))
),
kept AS (
    SELECT *
    FROM lines AS l
    -- CRITERIA.md 1: zero and credit balances are never written off.
    WHERE l.balance > 0
      -- CRITERIA.md 2: a patient line still open with insurance is never written off.
      AND ($balance_type = 'INSURANCE' OR l.insurance_balance = 0)
      AND (
          CAST($responsibility AS VARCHAR) IS NULL
          OR ($responsibility = 'AFTER_INSURANCE' AND l.billed_payer_id IS NOT NULL)
          OR ($responsibility = 'SELF_PAY' AND l.billed_payer_id IS NULL)
          OR ($responsibility = 'NOT_RESPONSIBLE' AND l.not_responsible)
          OR ($responsibility = 'AFTER_INSURANCE_PATIENT_RESPONSIBLE'
              AND l.billed_payer_id IS NOT NULL AND NOT l.not_responsible)
      )
      AND (CAST($role_priority AS INTEGER) IS NULL OR l.current_payer_role = $role_priority)
      AND (CAST($financial_classes AS VARCHAR[]) IS NULL OR list_contains($financial_classes, l.financial_class))
      AND (CAST($payer_ids AS VARCHAR[]) IS NULL OR list_contains($payer_ids, l.payer_id))
      AND (CAST($dos_from AS DATE) IS NULL OR l.date_of_service >= $dos_from)
      AND (CAST($dos_to AS DATE) IS NULL OR l.date_of_service <= $dos_to)
      AND (CAST($min_age_days AS INTEGER) IS NULL OR l.age_days >= $min_age_days)
      AND (CAST($max_age_days AS INTEGER) IS NULL OR l.age_days <= $max_age_days)
      -- docs/DESIGN.md: a payment posted after as_of blocks the line too (a snapshot).
      AND (CAST($payment_cutoff AS DATE) IS NULL
           OR l.last_patient_payment_date IS NULL
           OR l.last_patient_payment_date <= $payment_cutoff)
      AND (CAST($provider_ids AS VARCHAR[]) IS NULL OR list_contains($provider_ids, l.provider_id))
      AND (CAST($location_ids AS VARCHAR[]) IS NULL OR list_contains($location_ids, l.location_id))
      AND (CAST($procedure_codes AS VARCHAR[]) IS NULL OR list_contains($procedure_codes, l.procedure_code))
      AND (CAST($deceased AS BOOLEAN) IS NULL OR l.deceased_date IS NOT NULL)
      AND (CAST($financial_hardship AS BOOLEAN) IS NULL OR l.financial_hardship)
)
SELECT
    k.charge_id,
    k.encounter_id,
    k.patient_id,
    k.guarantor_id,
    k.group_key,
    k.date_of_service,
    k.age_days,
    k.procedure_code,
    k.provider_id,
    k.location_id,
    k.payer_id,
    k.financial_class,
    k.responsibility,
    k.balance_type,
    k.balance,
    k.balance AS writeoff_amount
FROM kept AS k
-- CRITERIA.md 4: the balance range keeps or drops a group's lines together. Without a range
-- the subquery keeps no row and no group total is computed, so the common search without
-- one does not pay for grouping and joining every line.
WHERE (CAST($min_balance AS DECIMAL(18,2)) IS NULL AND CAST($max_balance AS DECIMAL(18,2)) IS NULL)
   OR k.group_key IN (
       SELECT g.group_key
       FROM kept AS g
       WHERE NOT (CAST($min_balance AS DECIMAL(18,2)) IS NULL
                  AND CAST($max_balance AS DECIMAL(18,2)) IS NULL)
       GROUP BY g.group_key
       HAVING (CAST($min_balance AS DECIMAL(18,2)) IS NULL
               OR CAST(sum(g.balance) AS DECIMAL(18,2)) >= $min_balance)
          AND (CAST($max_balance AS DECIMAL(18,2)) IS NULL
               OR CAST(sum(g.balance) AS DECIMAL(18,2)) <= $max_balance)
   )
ORDER BY k.group_key, k.charge_id
