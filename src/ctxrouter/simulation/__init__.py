"""Simulations of a fleet's workload on the simulated provider, in virtual time."""
