-- select_all_payers: every payer of the loaded extract.
-- params: (none)
SELECT *
FROM payers
ORDER BY payer_id
