"""Mass write-off criteria: the value, the presets, and the one reader of criteria files."""
