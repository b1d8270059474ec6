"""Model tiers: haiku < sonnet < opus."""

from __future__ import annotations

from enum import StrEnum

from ctxrouter.errors import InputError, did_you_mean


class Tier(StrEnum):
    """A model tier. Ordered by strength (and, today, by price)."""

    HAIKU = "haiku"
    SONNET = "sonnet"
    OPUS = "opus"

    @property
    def rank(self) -> int:
        return _RANK[self]

    # comparisons sit on the routing hot path: one dict look-up each, no property calls
    def __lt__(self, other: object) -> bool:
        if other.__class__ is not Tier:
            return NotImplemented
        return _RANK[self] < _RANK[other]

    def __le__(self, other: object) -> bool:
        if other.__class__ is not Tier:
            return NotImplemented
        return _RANK[self] <= _RANK[other]

    def __gt__(self, other: object) -> bool:
        if other.__class__ is not Tier:
            return NotImplemented
        return _RANK[self] > _RANK[other]

    def __ge__(self, other: object) -> bool:
        if other.__class__ is not Tier:
            return NotImplemented
        return _RANK[self] >= _RANK[other]

    def up(self) -> Tier:
        """The next stronger tier (opus stays opus)."""
        return TIERS[min(self.rank + 1, len(TIERS) - 1)]

    def down(self) -> Tier:
        """The next cheaper tier (haiku stays haiku)."""
        return TIERS[max(self.rank - 1, 0)]


TIERS: tuple[Tier, ...] = (Tier.HAIKU, Tier.SONNET, Tier.OPUS)
_RANK = {t: i for i, t in enumerate(TIERS)}


def parse_tier(value: str, *, where: str = "") -> Tier:
    """Parse a tier name, case-insensitively, with a "did you mean" on a typo."""
    try:
        return Tier(value.strip().lower())
    except ValueError:
        guess = did_you_mean(value, [t.value for t in TIERS])
        hint = f" (did you mean {guess!r}?)" if guess else ""
        loc = f"{where}: " if where else ""
        raise InputError(
            f"{loc}unknown tier {value!r}{hint}; expected one of haiku, sonnet, opus"
        ) from None
