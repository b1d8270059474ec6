"""The old home of :class:`~ctxrouter.models.bulk_pricing.Pricer`, kept for code written
against it; import it from :mod:`ctxrouter.models.bulk_pricing`."""

from ctxrouter.models.bulk_pricing import Pricer

__all__ = ["Pricer"]
