-- select_line_balances: the current patient and insurance balances of the given charges.
-- params: charge_ids VARCHAR[]
SELECT charge_id, patient_balance, insurance_balance
FROM charge_balances
WHERE charge_id IN (SELECT unnest(CAST($charge_ids AS VARCHAR[])))
ORDER BY charge_id
