"""The ais-fw model repository service (installed as ``ais_repository_server``).

A FastAPI application over SQLAlchemy (SQLite by default, PostgreSQL by URL) and a
content-addressed store of model packages on disk. Start it with ``ais-fw repo serve``;
build it in code with :func:`ais_repository_server.app.create_app`. Importing this package
is cheap: FastAPI, SQLAlchemy and torch are imported by the modules that need them.
"""
from .settings import Settings

__all__ = ["Settings"]
