"""The FastAPI application of the model repository, and ``serve`` (uvicorn, one process).

The OpenAPI description is at ``/openapi.json`` and browsable at ``/docs``.
"""
from __future__ import annotations

from fastapi import FastAPI, Request

from .api_models import router as models_router
from .api_uploads import UploadTooLarge, too_large_response
from .api_uploads import router as uploads_router
from .db import make_engine, session_factory
from .settings import Settings
from .store import BlobStore


def create_app(settings: Settings) -> FastAPI:
    """The service for ``settings``: opens (and creates) the database and the store."""
    from ais_framework import __version__

    app = FastAPI(title="ais-fw model repository", version=__version__,
                  description="Validated cryo-ET segmentation models with their pixel size and preprocessing.")
    app.state.settings = settings
    app.state.store = BlobStore(settings.store)
    app.state.engine = make_engine(settings.database_url)
    app.state.sessions = session_factory(app.state.engine)
    app.include_router(models_router)
    app.include_router(uploads_router)

    @app.exception_handler(UploadTooLarge)
    async def _too_large(request: Request, exc: UploadTooLarge):
        return too_large_response(exc.limit)

    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Run the service until interrupted (blocks)."""
    import uvicorn

    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, timeout_keep_alive=30)
