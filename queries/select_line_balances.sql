-- select_line_balances: the current patient and insurance balances of the given charges.
-- params: charge_ids VARCHAR[]
SELECT charge_id, patient_balance, insurance_balance
FROM charge_balances
WHERE list_contains($charge_ids, charge_id)
ORDER BY charge_id
