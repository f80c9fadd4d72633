"""Refusals with a reason code: a 4xx answer that a page can show in its own language.

The body keeps FastAPI's ``detail`` (English, for logs and API users) and adds ``reason``
(a key of :data:`posture_coach.errors.REASON_TEXTS`) and ``reason_text`` ({zh, en}).
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ..errors import reason_texts


class Refused(HTTPException):
    """A 4xx answer with a reason code; see the module docstring."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(status, detail)
        self.reason = reason


def install_refusal_handler(app: FastAPI) -> None:
    """Answer :class:`Refused` with its reason code and texts (without this handler a
    refusal is a plain ``detail``, still a valid answer)."""

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, "reason": exc.reason, "reason_text": reason_texts(exc.reason)},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 (a field of the wrong type, ?lang=fr): the same ``detail`` list,
        # with a reason a page can show, as every other refusal has.
        # Which field and why, not the value sent: echoed back, a NaN or 1e309 could not be
        # written as JSON (a 500), and a 100 KB field came back in full.
        detail = [{k: v for k, v in err.items() if k in ("type", "loc", "msg")} for err in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(detail), "reason": "bad_request",
                             "reason_text": reason_texts("bad_request")}, status_code=422)
