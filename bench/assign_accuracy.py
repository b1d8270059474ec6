"""How often `ctxrouter assign` picks the tier the strategy's criteria say, on a labelled corpus.

Runs the default router (detection, matrix, agent policy, quality guardrails) over
``tests/data/assign_corpus.jsonl`` (plainly worded tasks, each labelled haiku or sonnet by the
strategy's criteria) and prints JSON: accuracy overall and by label, and every miss.

    .venv/bin/python bench/assign_accuracy.py [CORPUS.jsonl]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from ctxrouter import Router, RouteRequest, Settings

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "assign_corpus.jsonl"


def main(argv: list[str]) -> dict[str, object]:
    corpus = Path(argv[0]) if argv else CORPUS
    router = Router.from_settings(Settings.load())
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    misses = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        decision = router.decide(RouteRequest(task=item["task"], agent=item.get("agent")))
        expected = item["expected"]
        total[expected] += 1
        if decision.tier.value == expected:
            right[expected] += 1
        else:
            misses.append({"task": item["task"], "expected": expected, "got": decision.tier.value})
    n = sum(total.values())
    return {
        "corpus": str(corpus.name),
        "tasks": n,
        "correct": sum(right.values()),
        "accuracy": round(sum(right.values()) / n, 4),
        "by_label": {k: {"tasks": total[k], "correct": right[k]} for k in sorted(total)},
        "misses": misses,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
