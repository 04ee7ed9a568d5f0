-- derive_quarantined_charges: replaces quarantined_charges from this load (issue 14): a charge with a rejected row of its own, of its encounter or of its transactions, or whose committed write-off no longer matches it or exceeds its balance; run after derive_charge_balances, then update_quarantined_balances.
-- params: (none)
DELETE FROM quarantined_charges;
INSERT INTO quarantined_charges
WITH
-- One row per rejected row of the load, its problems joined, with the ids its text names.
rejected_rows AS (
    SELECT
        r.table_name,
        r.row_number,
        string_agg(
            DISTINCT coalesce(r.column_name || ': ', '') || r.reason, '; '
            ORDER BY coalesce(r.column_name || ': ', '') || r.reason
        ) AS problems,
        trim(json_extract_string(any_value(r.record_json), '$.charge_id')) AS charge_id,
        trim(json_extract_string(any_value(r.record_json), '$.encounter_id')) AS encounter_id
    FROM rejects AS r
    WHERE r.record_json IS NOT NULL
      AND r.row_number IS NOT NULL
      AND r.table_name IN ('charges', 'encounters', 'transactions')
    GROUP BY r.table_name, r.row_number
),
-- A rejected row of the charge itself (a later duplicate of a kept charge_id) or of its
-- transactions (a payment left out: the balance is wrong) names the kept charge by charge_id;
-- a rejected encounter row names the kept charges of that encounter_id.
from_rejects AS (
    SELECT
        c.charge_id,
        x.table_name || ' row ' || CAST(x.row_number AS VARCHAR) || ' was rejected (' || x.problems
            || '); the charge''s balance may be wrong' AS reason,
        x.table_name AS source_table,
        x.row_number AS source_row
    FROM rejected_rows AS x
    JOIN charges AS c
      ON c.charge_id = x.charge_id
    WHERE x.table_name IN ('charges', 'transactions')
    UNION ALL
    SELECT
        c.charge_id,
        x.table_name || ' row ' || CAST(x.row_number AS VARCHAR) || ' (encounter ' || x.encounter_id
            || ') was rejected (' || x.problems || '); the charge''s encounter may be wrong' AS reason,
        x.table_name AS source_table,
        x.row_number AS source_row
    FROM rejected_rows AS x
    JOIN charges AS c
      ON c.encounter_id = x.encounter_id
    WHERE x.table_name = 'encounters'
),
-- Committed write-off lines not in the extract, with the extract's charge of the same id and
-- whether it is the charge the line was made on (derive_charge_balances.sql nets only those).
writeoffs AS (
    SELECT
        w.*,
        c.encounter_id AS now_encounter_id,
        e.date_of_service AS now_date_of_service,
        c.procedure_code AS now_procedure_code,
        c.charge_amount AS now_charge_amount,
        w.charge_amount IS NULL
            OR (w.encounter_id = c.encounter_id
                AND w.charge_date_of_service = e.date_of_service
                AND w.charge_procedure_code IS NOT DISTINCT FROM c.procedure_code
                AND w.charge_amount = c.charge_amount) AS same_charge
    FROM writeoff_lines AS w
    JOIN charges AS c
      ON c.charge_id = w.charge_id
    JOIN encounters AS e
      ON e.encounter_id = c.encounter_id
    WHERE NOT EXISTS (
        SELECT 1
        FROM transactions AS t
        WHERE t.reference = w.receipt_no
          AND t.charge_id = w.charge_id
    )
),
-- A write-off made on another charge that reuses the id (not reversed): not netted, and held.
mismatched AS (
    SELECT
        w.charge_id,
        'write-off ' || w.receipt_no || ' was made on charge ' || w.charge_id || ' of '
            || w.encounter_id || ', ' || CAST(w.charge_date_of_service AS VARCHAR) || ', '
            || coalesce(w.charge_procedure_code, '-') || ', ' || CAST(w.charge_amount AS VARCHAR)
            || '; the new extract''s ' || w.charge_id || ' is ' || w.now_encounter_id || ', '
            || CAST(w.now_date_of_service AS VARCHAR) || ', ' || coalesce(w.now_procedure_code, '-')
            || ', ' || CAST(w.now_charge_amount AS VARCHAR)
            || '; the write-off is not netted (reverse it or correct the extract)' AS reason,
        'writeoff_lines' AS source_table,
        w.line_no AS source_row
    FROM writeoffs AS w
    WHERE NOT w.same_charge
      AND w.reverses_transaction_id IS NULL
      AND NOT EXISTS (
          SELECT 1
          FROM writeoff_lines AS r
          WHERE r.reverses_transaction_id = w.transaction_id
      )
),
-- The netted write-offs of each charge and bucket.
netted AS (
    SELECT
        w.charge_id,
        w.bucket,
        CAST(sum(w.amount) AS DECIMAL(18,2)) AS amount,
        string_agg(DISTINCT w.receipt_no, ', ' ORDER BY w.receipt_no) AS receipt_nos
    FROM writeoffs AS w
    WHERE w.same_charge
    GROUP BY w.charge_id, w.bucket
),
-- Write-offs that take a bucket below zero: netted (they were made on this charge), and held.
exceeding AS (
    SELECT
        n.charge_id,
        'write-off ' || n.receipt_nos || ' of ' || CAST(-n.amount AS VARCHAR) || ' on the '
            || n.bucket || ' balance of ' || n.charge_id || ' exceeds the new extract''s balance '
            || CAST(CAST(x.balance - n.amount AS DECIMAL(18,2)) AS VARCHAR) || '; netted, the balance is '
            || CAST(x.balance AS VARCHAR) || ' (reverse the excess or correct the extract)' AS reason,
        'writeoff_lines' AS source_table,
        CAST(NULL AS INTEGER) AS source_row
    FROM netted AS n
    JOIN (
        SELECT b.charge_id, 'PATIENT' AS bucket, b.patient_balance AS balance
        FROM charge_balances AS b
        UNION ALL
        SELECT b.charge_id, 'INSURANCE' AS bucket, b.insurance_balance AS balance
        FROM charge_balances AS b
    ) AS x
      ON x.charge_id = n.charge_id
     AND x.bucket = n.bucket
    WHERE n.amount < 0
      AND x.balance < 0
),
found AS (
    SELECT * FROM from_rejects
    UNION ALL
    SELECT * FROM mismatched
    UNION ALL
    SELECT * FROM exceeding
)
SELECT DISTINCT f.charge_id, f.reason, f.source_table, f.source_row
FROM found AS f
