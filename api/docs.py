"""The API's documentation (`/openapi.json`, `/docs`, `/redoc`) for staff only.

The `api_docs` setting decides: `staff` (the default) serves them to a matchmaker or an
administrator, signed in to the console (the browser sends the session cookie, also with the
pages' own fetch of `/openapi.json`) or presenting a bearer token; `public` serves them to
anyone (FastAPI's own routes: tests, a local demo); `off` serves none.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import STAFF, SessionDep, SettingsDep, oauth2_scheme
from api.security import token_subject
from api.web.auth import SESSION_COOKIE, session_subject
from services.accounts.service import Principal, principal_for_user


def staff_reader(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The staff member reading the documentation: 401 without a session, 403 for other roles."""
    subject = session_subject(request.cookies.get(SESSION_COOKIE, ""), settings)
    if subject is None and token:
        subject = token_subject(token, settings)
    principal = principal_for_user(session, *subject) if subject else None
    if principal is None:
        raise HTTPException(status_code=401, detail="API 文档仅限工作人员：请先登录控制台")
    if principal.role not in STAFF:
        raise HTTPException(status_code=403, detail="API 文档仅限撮合专员与管理员查看")
    return principal


StaffReader = Annotated[Principal, Depends(staff_reader)]


def staff_docs_router(app: FastAPI) -> APIRouter:
    """`/openapi.json`, `/docs` and `/redoc` of `app`, each behind `staff_reader`."""
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    def openapi(_: StaffReader) -> JSONResponse:
        """The OpenAPI schema."""
        return JSONResponse(app.openapi())

    @router.get("/docs")
    def swagger(_: StaffReader) -> HTMLResponse:
        """Swagger UI."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} — API")

    @router.get("/redoc")
    def redoc(_: StaffReader) -> HTMLResponse:
        """ReDoc."""
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} — API")

    return router


__all__ = ["StaffReader", "staff_docs_router", "staff_reader"]
