"""Every function under functions/ behind one local base URL, like Cloud Functions' URLs.

    python -m atende.devstack.functions_app --port 8080 --functions-dir functions

`functions/<name>/main.py` must define a function called `<name>`; it answers at
`http://127.0.0.1:8080/<name>` (and `/<name>/...`), served by functions-framework's ASGI
mode, so the function gets a Starlette `Request`. `GET /_health` lists what was loaded. A
function that fails to load answers 500 with the error instead of taking the others down.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)


def discover(functions_dir: Path) -> list[str]:
    """Names of the function folders (those with a main.py), sorted."""
    if not functions_dir.is_dir():
        return []
    return sorted(
        entry.name
        for entry in functions_dir.iterdir()
        if entry.is_dir()
        and not entry.name.startswith((".", "_"))
        and (entry / "main.py").is_file()
    )


def _forget_modules_under(directory: Path, before: set[str]) -> None:
    """Drop modules a function imported from its own folder (`main`, helpers…) from
    sys.modules, so the next function's `main` or same-named helper loads afresh. The loaded
    function keeps its own references."""
    root = str(directory.resolve())
    for name in set(sys.modules) - before:
        file = getattr(sys.modules[name], "__file__", None) or ""
        if name == "main" or file.startswith(root):
            del sys.modules[name]


def load_function(name: str, source: Path) -> ASGIApp:
    from functions_framework.aio import create_asgi_app

    create: Callable[..., ASGIApp] = create_asgi_app
    before = set(sys.modules)
    folder = str(source.parent.resolve())
    # Its own folder first while it loads, so `import helper` finds its own helper module;
    # functions-framework also appends the folder, which stays for imports made later.
    sys.path.insert(0, folder)
    try:
        return create(target=name, source=str(source), signature_type="http")
    finally:
        sys.path.remove(folder)
        _forget_modules_under(source.parent, before)


def _failed_app(name: str, error: str) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(f"function {name} failed to load:\n{error}", 500)
        await response(scope, receive, send)

    return app


class _Exact:
    """`/<name>` itself: served by the function as `/<name>/` (root_path `/<name>`), with
    no redirect to the trailing slash, which webhooks and Cloud Tasks would not follow."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        child = dict(scope)
        child["path"] = scope["path"] + "/"
        child["raw_path"] = (scope.get("raw_path") or scope["path"].encode()) + b"/"
        child["root_path"] = scope.get("root_path", "") + self.prefix
        await self.app(child, receive, send)


def build_app(functions_dir: Path) -> Starlette:
    """A Starlette app serving every `functions_dir/<name>/main.py` at `/<name>`."""
    loaded: list[str] = []
    failed: dict[str, str] = {}
    routes: list[BaseRoute] = []
    for name in discover(functions_dir):
        try:
            app = load_function(name, functions_dir / name / "main.py")
            loaded.append(name)
        except Exception:
            error = traceback.format_exc()
            logger.error("function %s failed to load:\n%s", name, error)
            failed[name] = error.strip().splitlines()[-1]
            app = _failed_app(name, error)
        routes.append(Route(f"/{name}", _Exact(app, f"/{name}")))
        routes.append(Mount(f"/{name}", app))

    async def health(request: Request) -> JSONResponse:
        status = "ok" if not failed else "degraded"
        return JSONResponse({"status": status, "functions": loaded, "failed": failed})

    return Starlette(routes=[Route("/_health", health, methods=["GET"]), *routes])


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve functions/<name>/main.py at /<name>")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--functions-dir", type=Path, default=Path("functions"))
    args = parser.parse_args(argv)
    app = build_app(args.functions_dir.resolve())
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the handler it found:
    # make that a normal exit, so exit hooks (coverage of the e2e tests, for one) still run.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", workers=1)


if __name__ == "__main__":
    main()
