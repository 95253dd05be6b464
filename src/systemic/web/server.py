"""How ``systemic serve`` runs the app under uvicorn (also used by the load tests).

- no ``server: uvicorn`` banner: it only tells an attacker what to look up;
- uvicorn's own ``X-Forwarded-For`` handling is off: it would believe the header
  from any local peer, even when the app is not behind a proxy. The security
  middleware alone decides, counting ``--proxy-hops`` trusted proxies
  (``systemic.web.security.middleware.client_ip``).
"""

from __future__ import annotations

from typing import Any

import uvicorn


def server_config(app: Any, *, host: str, port: int, log_level: str = "info") -> uvicorn.Config:
    """The uvicorn configuration for serving ``app`` on ``host``:``port``."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        server_header=False,
        proxy_headers=False,
    )
