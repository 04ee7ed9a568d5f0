"""The Spark engine: the query files, keyed by practice, over a multi-practice extract (docs/SPARK.md)."""
