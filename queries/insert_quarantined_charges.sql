-- insert_quarantined_charges: adds back the staged quarantine of earlier loads (staged_quarantined_charges) for charges the snapshot still holds, skipping rows already there (an import that adds to the snapshot keeps it).
-- params: (none)
INSERT INTO quarantined_charges
SELECT DISTINCT s.charge_id, s.reason, s.source_table, s.source_row
FROM staged_quarantined_charges AS s
JOIN charges AS c
  ON c.charge_id = s.charge_id
WHERE NOT EXISTS (
    SELECT 1
    FROM quarantined_charges AS q
    WHERE q.charge_id = s.charge_id
      AND q.reason = s.reason
)
