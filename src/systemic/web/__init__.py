"""The workspace web app: FastAPI, server-rendered pages (Jinja2 + htmx), JSON API.

A thin layer over ``systemic.framework`` and ``systemic.store``.
"""
