"""The agent catalog: agent definitions read from Markdown files with YAML frontmatter."""

from ctxrouter.catalog.agent import Agent, AgentFormat
from ctxrouter.catalog.catalog import Catalog
from ctxrouter.catalog.loader import builtin_dir, collect_catalog, lint, load_catalog, load_folder
from ctxrouter.catalog.parse import parse_agent_text

__all__ = [
    "Agent",
    "AgentFormat",
    "Catalog",
    "builtin_dir",
    "collect_catalog",
    "lint",
    "load_catalog",
    "load_folder",
    "parse_agent_text",
]
