"""The dashboard: a page of charts over the event store, served live or exported as one file,
and a Prometheus endpoint.

::

    from ctxrouter.dashboard import Window, build, render_page, create_app

    data = build(store, Window(since=..., category="Testing"))
    html = render_page(data, standalone=True)  # one self-contained file
    app = create_app(store)  # Starlette: /, /metrics, /healthz; serve with uvicorn

Imports of Starlette and prometheus-client wait until :func:`create_app` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctxrouter.dashboard.data import DashboardData, Window, build
from ctxrouter.dashboard.render import figures, render_page

if TYPE_CHECKING:
    from ctxrouter.dashboard.app import StoreCollector, create_app


def __getattr__(name: str) -> Any:
    if name in ("create_app", "StoreCollector"):
        from ctxrouter.dashboard import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DashboardData",
    "StoreCollector",
    "Window",
    "build",
    "create_app",
    "figures",
    "render_page",
]
