"""Integrations with the tools agent fleets already run (Claude Code, ...)."""
