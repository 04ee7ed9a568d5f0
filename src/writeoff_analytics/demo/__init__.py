"""Synthetic demo ledgers and the multi-practice splitter (not the library proper)."""
