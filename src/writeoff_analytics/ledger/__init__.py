"""Ledger extracts: the contract, loading and validation, and the DuckDB store."""
