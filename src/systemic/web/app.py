"""The FastAPI application factory (owned by the workspace backend)."""

from __future__ import annotations

from fastapi import FastAPI

from systemic.web import pages


def create_app(database_url: str | None = None) -> FastAPI:
    """Build the workspace app on the given database (SQLite file by default)."""
    app = FastAPI(title="systemic workspace")
    app.include_router(pages.router)
    return app
