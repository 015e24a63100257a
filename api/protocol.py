"""HTTP strictness: undeclared, repeated or NUL-bearing query parameters refused; complete `Allow` on 405."""

from __future__ import annotations

import typing

from fastapi import HTTPException, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _list_query_names(dependant: Dependant) -> set[str]:
    """Query parameters declared as lists (`?contract=CDI&contract=CDD`): the only ones that may repeat."""
    names = {param.alias for param in dependant.query_params if typing.get_origin(param.field_info.annotation)
             in (list, tuple, set) or _optional_list(param.field_info.annotation)}  # fmt: skip
    for sub in dependant.dependencies:
        names |= _list_query_names(sub)
    return names


def _optional_list(annotation: object) -> bool:
    return any(typing.get_origin(arg) in (list, tuple, set) for arg in typing.get_args(annotation))


def reject_unknown_query(request: Request) -> None:
    """Answer 422 when the query holds an undeclared or repeated parameter, or a NUL character."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    names = [name for name, _ in request.query_params.multi_items()]
    errors = [{"loc": ["query", name], "msg": "paramètre inconnu", "type": "extra_forbidden"}
              for name in sorted(set(names) - known)]  # fmt: skip
    single = known - _list_query_names(route.dependant)
    errors += [{"loc": ["query", name], "msg": "paramètre répété", "type": "value_error"}
               for name in sorted({n for n in names if names.count(n) > 1} & single)]  # fmt: skip
    errors += [{"loc": ["query", name], "msg": "caractère NUL interdit", "type": "value_error"}
               for name, value in request.query_params.multi_items() if "\x00" in value]
    if errors:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, errors)


class AllowHeaderMiddleware:
    """Starlette answers 405 from the first route matching the path; list the methods of all of them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods: set[str] = set()
                for route in scope["app"].router.routes:
                    if isinstance(route, APIRoute) and route.matches(scope)[0] != Match.NONE:
                        methods |= route.methods - {"HEAD"}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                headers.append((b"allow", ", ".join(sorted(methods)).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_allow)
