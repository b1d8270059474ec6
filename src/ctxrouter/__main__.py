"""``python -m ctxrouter``: the command line."""

from ctxrouter.cli.app import main

main()
