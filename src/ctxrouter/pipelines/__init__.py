"""Pipelines: multi-agent DAGs (design, implement, test, review) that mix tiers, run concurrently,
and report their cost and savings; ``batch`` runs one over many tasks."""
