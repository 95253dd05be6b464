"""Every (path, methods) an app serves, including routes of included routers."""

from __future__ import annotations

from typing import Any


def route_table(app: Any) -> list[tuple[str, set[str]]]:
    """Flatten the app's routes (FastAPI may keep included routers as one entry)."""
    found: list[tuple[str, set[str]]] = []

    def walk(routes: Any) -> None:
        for route in routes:
            if hasattr(route, "effective_candidates"):
                walk(route.effective_candidates())
            elif getattr(route, "methods", None) and getattr(route, "path", None):
                found.append((route.path, set(route.methods)))

    walk(app.routes)
    return found


def get_paths(app: Any) -> list[str]:
    """Every path served to GET."""
    return sorted({path for path, methods in route_table(app) if "GET" in methods})
