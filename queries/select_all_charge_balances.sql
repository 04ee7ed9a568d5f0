-- select_all_charge_balances: every row of the derived balances, in charge order.
-- params: (none)
SELECT *
FROM charge_balances
ORDER BY charge_id
