"""The agent catalog: agent definitions read from Markdown files with YAML frontmatter."""

from ctxrouter.catalog.agent import Agent, AgentFormat
from ctxrouter.catalog.catalog import Catalog
from ctxrouter.catalog.discovery import AgentFolder, discover_catalog, watched_folders
from ctxrouter.catalog.loader import builtin_dir, lint, load_catalog, load_folder
from ctxrouter.catalog.parse import parse_agent_text

__all__ = [
    "Agent",
    "AgentFolder",
    "AgentFormat",
    "Catalog",
    "builtin_dir",
    "discover_catalog",
    "lint",
    "load_catalog",
    "load_folder",
    "parse_agent_text",
    "watched_folders",
]
