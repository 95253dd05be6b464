"""CLI commands, one module per capability; each exposes ``register(app)``.

Modules here only parse arguments, call the library and print results.
"""
