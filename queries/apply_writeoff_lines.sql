-- apply_writeoff_lines: nets one receipt's lines into charge_balances, incrementally, exactly as derive_charge_balances would.
-- params: receipt_no VARCHAR
UPDATE charge_balances AS b
SET
    insurance_balance = CAST(b.insurance_balance + d.insurance_delta AS DECIMAL(18,2)),
    patient_balance = CAST(b.patient_balance + d.patient_delta AS DECIMAL(18,2))
FROM (
    SELECT
        w.charge_id,
        coalesce(sum(w.amount) FILTER (WHERE w.bucket = 'INSURANCE'), 0) AS insurance_delta,
        coalesce(sum(w.amount) FILTER (WHERE w.bucket = 'PATIENT'), 0) AS patient_delta
    FROM writeoff_lines AS w
    JOIN charges AS wc
      ON wc.charge_id = w.charge_id
    JOIN encounters AS we
      ON we.encounter_id = wc.encounter_id
    WHERE w.receipt_no = $receipt_no
      -- derive_charge_balances (issue 14): only a line made on this charge (or of unknown identity)
      AND (w.charge_amount IS NULL
           OR (w.encounter_id = wc.encounter_id
               AND w.charge_date_of_service = we.date_of_service
               AND w.charge_procedure_code IS NOT DISTINCT FROM wc.procedure_code
               AND w.charge_amount = wc.charge_amount))
      -- derive_charge_balances: rows the extract already holds (same reference and charge) count once
      AND NOT EXISTS (
          SELECT 1
          FROM transactions AS t
          WHERE t.reference = w.receipt_no
            AND t.charge_id = w.charge_id
      )
    GROUP BY w.charge_id
) AS d
WHERE b.charge_id = d.charge_id
