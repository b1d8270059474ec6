"""``python -m ctxrouter.testing.fake_anthropic``: the fake server in a process of its own.

It prints the base URL it listens on (one line, flushed) and serves until SIGINT (Ctrl-C) or
SIGTERM, then exits with status 0. ``--port 0`` (the default) takes any free port::

    python -m ctxrouter.testing.fake_anthropic --rate 529=0.2 --rate 429=0.05 --seed 1
    http://127.0.0.1:41713
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence

from ctxrouter.testing.fake_anthropic.server import FakeAnthropic

PROG = "python -m ctxrouter.testing.fake_anthropic"


def main(argv: Sequence[str] | None = None) -> None:
    """Serve in this process until SIGINT / SIGTERM; print the ``base_url`` once listening.
    Benchmarks run it apart from the client so that they do not share a GIL."""
    parser = _parser()
    options = vars(parser.parse_args(argv))  # each option's dest is a FakeAnthropic argument
    options["rates"] = dict(options["rates"])
    try:
        fake = FakeAnthropic(**options)
    except ValueError as exc:
        parser.error(str(exc))
    asyncio.run(_serve(fake))


async def _serve(fake: FakeAnthropic) -> None:
    async with fake:
        print(fake.base_url, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A fake Anthropic Messages API on loopback, with fault injection. "
        "Prints its base URL, then serves until SIGINT or SIGTERM.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    parser.add_argument("--port", type=int, default=0, help="default: 0, any free port")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random faults")
    parser.add_argument(
        "--rate",
        dest="rates",
        type=_rate,
        action="append",
        default=[],
        metavar="FAULT=RATE",
        help="a random fault and its share of message requests: a status (529=0.2), "
        "reset=0.01 or stream_error=0.01 (repeatable)",
    )
    parser.add_argument("--api-key", default=None, help="answer 401 to any other key")
    parser.add_argument("--reply", default=None, help="the answer text (default: an echo)")
    parser.add_argument("--output-tokens", type=int, default=None, help="reported per answer")
    parser.add_argument("--stream-chunks", type=int, default=4, help="text deltas per stream")
    parser.add_argument(
        "--chunk-delay",
        dest="chunk_delay_s",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="between deltas",
    )
    parser.add_argument("--keep-requests", type=int, default=1000, help="requests kept in the log")
    return parser


def _rate(text: str) -> tuple[int | str, float]:
    """``529=0.2`` → ``(529, 0.2)``; ``reset=0.01`` → ``("reset", 0.01)``."""
    key, equals, value = text.partition("=")
    try:
        return (int(key) if key.isdigit() else key), float(value if equals else "")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not FAULT=RATE, e.g. 529=0.2") from None
