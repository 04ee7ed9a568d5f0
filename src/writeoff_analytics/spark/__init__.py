"""Many practices on Spark: the session, reading a multi-practice extract, each practice's own store (docs/SPARK.md)."""
