"""What the test suite (and the benchmarks) use to drive outside programs, and no user needs:
the pinned npm tools (:mod:`.npm_tools`), ccusage (:mod:`.ccusage`) and the Claude Code CLI
(:mod:`.claude_code`). The test doubles users may need ship in :mod:`ctxrouter.testing`."""
