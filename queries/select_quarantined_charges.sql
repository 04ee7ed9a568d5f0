-- select_quarantined_charges: the charges held out of every candidate search, with why (one row per reason), by charge.
-- params: (none)
SELECT
    q.charge_id,
    q.reason,
    q.source_table,
    q.source_row
FROM quarantined_charges AS q
ORDER BY q.charge_id, q.source_table, q.source_row NULLS LAST, q.reason
