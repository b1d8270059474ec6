"""``python -m ctxrouter``: the command line."""

from ctxrouter.cli.entry import main

main()
