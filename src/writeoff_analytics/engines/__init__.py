"""The candidate search on each engine, the same function names in each."""
