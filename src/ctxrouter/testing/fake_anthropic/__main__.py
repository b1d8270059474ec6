"""``python -m ctxrouter.testing.fake_anthropic``: see :mod:`.cli`."""

from ctxrouter.testing.fake_anthropic.cli import main

if __name__ == "__main__":
    main()
