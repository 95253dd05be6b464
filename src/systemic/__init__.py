"""systemic: reform public services with systems thinking.

One package per capability: ``data`` (the service-data model, importers,
pseudonymisation), ``learn``, ``measures``, ``simulate``, ``framework``,
``store``, ``web`` and ``report``; ``systemic.cli`` is the command line.
"""

__version__ = "0.1.0"
