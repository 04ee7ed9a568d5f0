"""Mass write-off criteria: the value, the presets, and their two engines (SQL and Polars)."""
