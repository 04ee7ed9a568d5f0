-- select_remittance_evidence: the 835 remittance rows (ids 835:<TRN02>:<CLP01>:<n>) of the given charges, with their CARC, RARC, date and trace, by charge.
-- params: charge_ids VARCHAR[]
SELECT
    t.charge_id,
    t.transaction_id,
    t.posted_date,
    t.reference,
    t.type,
    t.amount,
    t.group_code,
    t.reason_code,
    t.remark_codes
FROM transactions AS t
WHERE t.transaction_id LIKE '835:%'  -- X12_835_POSTING.md: every 835 row carries this id
  AND t.charge_id IN (SELECT unnest(CAST($charge_ids AS VARCHAR[])))
  AND (t.group_code IS NOT NULL OR t.remark_codes IS NOT NULL)  -- the rows that say why
ORDER BY t.charge_id, t.posted_date, t.transaction_id
