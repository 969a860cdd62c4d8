"""The console router: every page under `/console`, the static files, and `/` → the console."""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.web import (
    evaluation,
    events,
    imports,
    institution,
    lifecycle,
    listing,
    login,
    matchmaker,
    policies,
    portal,
    residents,
    roadshows,
    signin,
    staff,
    users,
)
from api.web.render import STATIC_DIR

PAGES = (login, matchmaker, lifecycle, imports, roadshows, evaluation, institution, users, residents,
         staff, listing, policies, events, portal)  # fmt: skip

router = APIRouter(include_in_schema=False)
for module in PAGES:
    router.include_router(module.router, prefix="/console")
router.include_router(signin.router)  # public: the event sign-in page its QR code opens
router.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """The console is the site's home page."""
    return RedirectResponse("/console/", status_code=307)
