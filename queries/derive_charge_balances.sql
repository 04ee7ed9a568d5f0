-- derive_charge_balances: (re)builds charge_balances, one row per charge with its balances, current insurance payer and role, the financial class of each bucket's payer, patient flags and whether the charge is quarantined (LEDGER_FORMAT.md, "Derived quantities").
-- params: (none)
CREATE OR REPLACE TABLE charge_balances AS
WITH
-- Write-offs committed here whose rows are not (yet) in the extract: an extract that
-- already carries a receipt's rows (same reference and charge) must not count them twice.
-- issue 14: a line is netted only on the charge it was made on: its remembered identity
-- (encounter, date of service, procedure, charge amount) must match the extract's charge, or be
-- unknown (NULL: a line committed before issue 14 matches by id, as before). A line that does
-- not match is not netted and its charge is quarantined (derive_quarantined_charges.sql;
-- apply_writeoff_lines.sql applies the same test).
unimported_writeoffs AS (
    SELECT w.charge_id, w.bucket, w.amount
    FROM writeoff_lines AS w
    JOIN charges AS wc
      ON wc.charge_id = w.charge_id
    JOIN encounters AS we
      ON we.encounter_id = wc.encounter_id
    WHERE NOT EXISTS (
        SELECT 1
        FROM transactions AS t
        WHERE t.reference = w.receipt_no
          AND t.charge_id = w.charge_id
    )
      AND (w.charge_amount IS NULL
           OR (w.encounter_id = wc.encounter_id
               AND w.charge_date_of_service = we.date_of_service
               AND w.charge_procedure_code IS NOT DISTINCT FROM wc.procedure_code
               AND w.charge_amount = wc.charge_amount))
),
-- issue 14: the charges held out of every candidate search (one row each).
held AS (
    SELECT DISTINCT q.charge_id
    FROM quarantined_charges AS q
),
-- One pass over transactions for every per-charge figure (a charge's sums, its current
-- insurance payer, its last patient payment, its not-responsible marks).
transaction_figures AS (
    SELECT
        charge_id,
        sum(amount) FILTER (WHERE responsibility = 'INSURANCE') AS insurance_delta,
        sum(amount) FILTER (WHERE responsibility = 'PATIENT') AS patient_delta,
        -- LEDGER_FORMAT.md: the current insurance payer is the payer of the latest (posted_date,
        -- then transaction_id) INSURANCE row with amount > 0; rows without a payer_id are passed over.
        arg_max(payer_id, struct_pack(d := posted_date, t := transaction_id)) FILTER (
            WHERE responsibility = 'INSURANCE'
              AND amount > 0
              AND payer_id IS NOT NULL
        ) AS latest_insurance_payer_id,
        max(posted_date) FILTER (WHERE type = 'PATIENT_PAYMENT') AS last_patient_payment_date,
        -- issue 8: an 835 line whose remark codes carry a QMB remark (N781, N782, N783), or an
        -- OA-209 adjustment, marks the patient not responsible for that charge.
        bool_or(
            coalesce(group_code = 'OA' AND reason_code = '209', FALSE)
            OR regexp_matches(coalesce(remark_codes, ''), '(^|,)\s*N78[123]\s*(,|$)')
        ) AS not_responsible_charge
    FROM transactions
    GROUP BY charge_id
),
writeoff_sums AS (
    SELECT
        charge_id,
        sum(amount) FILTER (WHERE bucket = 'INSURANCE') AS insurance_delta,
        sum(amount) FILTER (WHERE bucket = 'PATIENT') AS patient_delta
    FROM unimported_writeoffs
    GROUP BY charge_id
),
coverage_on_dos AS (
    SELECT e.encounter_id, c.payer_id, c.priority, c.qmb, c.patient_responsible, p.balance_bill_patient
    FROM encounters AS e
    JOIN coverages AS c
      ON c.patient_id = e.patient_id
     AND c.effective_from <= e.date_of_service
     AND (c.effective_to IS NULL OR c.effective_to >= e.date_of_service)
    JOIN payers AS p
      ON p.payer_id = c.payer_id
),
not_responsible_encounters AS (
    SELECT DISTINCT encounter_id
    FROM coverage_on_dos
    WHERE NOT balance_bill_patient
       OR coalesce(qmb, FALSE)
       OR NOT coalesce(patient_responsible, TRUE)
),
-- LEDGER_FORMAT.md: the role is the priority of the current payer's coverage in effect on
-- the date of service (the highest, i.e. lowest number, if the payer covers twice).
coverage_roles AS (
    SELECT encounter_id, payer_id, min(priority) AS current_payer_role
    FROM coverage_on_dos
    GROUP BY encounter_id, payer_id
),
lines AS (
    SELECT
        ch.charge_id,
        ch.encounter_id,
        e.patient_id,
        pt.guarantor_id,
        e.date_of_service,
        e.provider_id,
        e.location_id,
        ch.procedure_code,
        coalesce(ch.units, 1) AS units,
        ch.charge_amount,
        ch.billed_payer_id,
        ch.posted_date,
        CAST(CASE WHEN ch.billed_payer_id IS NOT NULL THEN ch.charge_amount ELSE 0 END
             + coalesce(tf.insurance_delta, 0) + coalesce(ws.insurance_delta, 0) AS DECIMAL(18,2))
            AS insurance_balance,
        CAST(CASE WHEN ch.billed_payer_id IS NULL THEN ch.charge_amount ELSE 0 END
             + coalesce(tf.patient_delta, 0) + coalesce(ws.patient_delta, 0) AS DECIMAL(18,2))
            AS patient_balance,
        coalesce(tf.latest_insurance_payer_id, ch.billed_payer_id) AS current_payer_id,
        tf.last_patient_payment_date,
        nre.encounter_id IS NOT NULL OR coalesce(tf.not_responsible_charge, FALSE) AS not_responsible,
        pt.deceased_date,
        coalesce(pt.financial_hardship, FALSE) AS financial_hardship
    FROM charges AS ch
    JOIN encounters AS e
      ON e.encounter_id = ch.encounter_id
    JOIN patients AS pt
      ON pt.patient_id = e.patient_id
    LEFT JOIN transaction_figures AS tf
      ON tf.charge_id = ch.charge_id
    LEFT JOIN writeoff_sums AS ws
      ON ws.charge_id = ch.charge_id
    LEFT JOIN not_responsible_encounters AS nre
      ON nre.encounter_id = ch.encounter_id
)
SELECT
    l.*,
    -- docs/DESIGN.md: the payer of a line is the billed payer for its PATIENT balance and the
    -- current payer for its INSURANCE balance; its class is that payer's, SELF_PAY when it has
    -- none. Stored here once; every query and engine reads these two columns.
    coalesce(bp.financial_class, 'SELF_PAY') AS patient_financial_class,
    coalesce(cp.financial_class, 'SELF_PAY') AS insurance_financial_class,
    r.current_payer_role,
    h.charge_id IS NOT NULL AS quarantined
FROM lines AS l
LEFT JOIN payers AS bp
  ON bp.payer_id = l.billed_payer_id
LEFT JOIN payers AS cp
  ON cp.payer_id = l.current_payer_id
LEFT JOIN coverage_roles AS r
  ON r.encounter_id = l.encounter_id
 AND r.payer_id = l.current_payer_id
LEFT JOIN held AS h
  ON h.charge_id = l.charge_id
ORDER BY l.charge_id;
