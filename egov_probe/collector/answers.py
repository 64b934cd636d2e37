"""What the API answers: a status, a small JSON body, headers (``Retry-After``), and the unit
whose row changed (published on the update bus once the answer is committed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from starlette.responses import JSONResponse


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    unit_id: Optional[str] = None

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


def error(status: int, word: str, detail: Optional[str] = None,
          retry_after: Optional[int] = None) -> ApiAnswer:
    """``{"error": word}`` (and ``detail``); ``retry_after`` seconds for 429 and 503."""
    body = {"error": word} if detail is None else {"error": word, "detail": detail}
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return ApiAnswer(status, body, headers)
