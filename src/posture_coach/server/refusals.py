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

#: What was wrong with a field, in both languages, by pydantic's error type; ``{f}`` is the
#: field's name as the API spells it, the rest come from the error's ``ctx``.
FIELD_PROBLEMS: dict[str, tuple[str, str]] = {
    "missing": ("缺少“{f}”。", "\"{f}\" is missing."),
    "literal_error": ("“{f}”只能是 {expected}。", "\"{f}\" must be {expected}."),
    "enum": ("“{f}”只能是 {expected}。", "\"{f}\" must be {expected}."),
    "string_too_long": ("“{f}”太长：最多 {max_length} 个字符。",
                        "\"{f}\" is too long: at most {max_length} characters."),
    "string_too_short": ("“{f}”太短：至少 {min_length} 个字符。",
                         "\"{f}\" is too short: at least {min_length} characters."),
    "string_type": ("“{f}”应为文字。", "\"{f}\" must be text."),
    "int_parsing": ("“{f}”应为整数。", "\"{f}\" must be a whole number."),
    "int_type": ("“{f}”应为整数。", "\"{f}\" must be a whole number."),
    "int_from_float": ("“{f}”应为整数。", "\"{f}\" must be a whole number."),
    "float_parsing": ("“{f}”应为数字。", "\"{f}\" must be a number."),
    "float_type": ("“{f}”应为数字。", "\"{f}\" must be a number."),
    "finite_number": ("“{f}”应为有限的数字。", "\"{f}\" must be a finite number."),
    "bool_parsing": ("“{f}”应为 true 或 false。", "\"{f}\" must be true or false."),
    "bool_type": ("“{f}”应为 true 或 false。", "\"{f}\" must be true or false."),
    "greater_than_equal": ("“{f}”应不小于 {ge}。", "\"{f}\" must be at least {ge}."),
    "greater_than": ("“{f}”应大于 {gt}。", "\"{f}\" must be more than {gt}."),
    "less_than_equal": ("“{f}”应不大于 {le}。", "\"{f}\" must be at most {le}."),
    "less_than": ("“{f}”应小于 {lt}。", "\"{f}\" must be less than {lt}."),
    "too_long": ("“{f}”的项目太多：最多 {max_length} 项。", "\"{f}\" has too many items: at most {max_length}."),
    "list_type": ("“{f}”应为列表。", "\"{f}\" must be a list."),
    "dict_type": ("“{f}”应为对象。", "\"{f}\" must be an object."),
    "model_attributes_type": ("“{f}”应为对象。", "\"{f}\" must be an object."),
    "extra_forbidden": ("不认识的字段“{f}”。", "Unknown field \"{f}\"."),
    "json_invalid": ("请求内容不是有效的 JSON。", "The request body is not valid JSON."),
}


def validation_texts(errors: list[dict[str, object]]) -> dict[str, str]:
    """Both languages' text for a 422: the first problem, named by its field (``?lang=fr``:
    '"lang" must be 'zh' or 'en'.'), and how many more there are; the generic
    ``bad_request`` text where a problem has no template. Never echoes the value sent."""
    generic = reason_texts("bad_request") or {"zh": "输入有误。", "en": "Something in the request is wrong."}
    if not errors:
        return dict(generic)
    err = errors[0]
    loc = [str(x) for x in err.get("loc", ()) or () if isinstance(x, str)]  # type: ignore[attr-defined]
    field = loc[-1] if loc and loc[-1] not in ("body", "query", "path", "header", "cookie") else ""
    template = FIELD_PROBLEMS.get(str(err.get("type", "")))
    ctx = err.get("ctx")
    values = {str(k): str(v)[:80] for k, v in (ctx.items() if isinstance(ctx, dict) else ())
              if isinstance(v, str | int | float)}
    out: dict[str, str]
    try:
        if template is None or ("{f}" in template[0] and not field):
            raise KeyError("no template")
        zh_values = {k: v.replace(" or ", " 或 ") for k, v in values.items()}  # 'zh' or 'en'
        out = {"zh": template[0].format(f=field, **zh_values), "en": template[1].format(f=field, **values)}
    except (KeyError, IndexError, ValueError):
        out = dict(generic)
        if field:
            out = {"zh": f"“{field}”有误。" + generic["zh"], "en": f"\"{field}\" is not valid. " + generic["en"]}
    hint = FIELD_HINTS.get(field)
    if hint is not None:
        out = {"zh": out["zh"] + hint[0], "en": out["en"] + hint[1]}
    if len(errors) > 1:
        out = {"zh": out["zh"] + f"（另有 {len(errors) - 1} 处）", "en": out["en"] + f" ({len(errors) - 1} more)"}
    return out


#: What a field takes, where its name alone does not say (the command line takes the pass
#: mark in points; the API a fraction).
FIELD_HINTS: dict[str, tuple[str, str]] = {
    "pass_score": ("（及格线填 0 到 1 之间的小数：80 分即 0.8）",
                   " (the pass mark as a fraction 0-1: 80 points is 0.8)"),
}


class Refused(HTTPException):
    """A 4xx answer with a reason code; see the module docstring. ``texts``: this refusal's
    own {zh, en} (with its numbers, e.g. the upload limit) instead of the reason's usual text."""

    def __init__(self, status: int, reason: str, detail: str, texts: dict[str, str] | None = None) -> None:
        super().__init__(status, detail)
        self.reason = reason
        self.texts = texts


def install_refusal_handler(app: FastAPI) -> None:
    """Answer :class:`Refused` with its reason code and texts (without this handler a
    refusal is a plain ``detail``, still a valid answer)."""

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, "reason": exc.reason,
                             "reason_text": exc.texts or reason_texts(exc.reason)},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 (a field of the wrong type, ?lang=fr): the same ``detail`` list,
        # with a reason a page can show, as every other refusal has.
        # Which field and why, not the value sent: echoed back, a NaN or 1e309 could not be
        # written as JSON (a 500), and a 100 KB field came back in full.
        errors = list(exc.errors())
        detail = [{k: v for k, v in err.items() if k in ("type", "loc", "msg")} for err in errors]
        return JSONResponse({"detail": jsonable_encoder(detail), "reason": "bad_request",
                             "reason_text": validation_texts(errors)}, status_code=422)
