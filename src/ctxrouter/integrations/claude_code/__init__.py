"""Claude Code: import its transcripts, export policies to its agent files, route its
subagents with a PreToolUse hook.

Facts read off Claude Code 2.1.328 are stated where they are used.
"""
