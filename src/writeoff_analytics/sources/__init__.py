"""Real-world sources mapped onto the ledger contract: X12 835 remittances, Synthea exports."""
