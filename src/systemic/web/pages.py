"""Server-rendered pages (owned by the workspace web UI)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
