-- update_quarantined_balances: sets charge_balances.quarantined to whether quarantined_charges holds the charge (after the quarantine is derived; derive_charge_balances reads the same table).
-- params: (none)
UPDATE charge_balances
SET quarantined = charge_id IN (SELECT q.charge_id FROM quarantined_charges AS q)
WHERE quarantined <> (charge_id IN (SELECT q.charge_id FROM quarantined_charges AS q))
