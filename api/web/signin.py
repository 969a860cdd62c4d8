"""The public sign-in page a roadshow's or training's QR code opens (deliberately public).

No account: the link's per-event secret token is the credential, and it expires after the event.
The form is bounded (the body guard's public bound, field lengths), CSRF-checked by a
double-submit cookie, throttled per source address, and every refusal is shown in Chinese with
nothing written (the attempt counter aside, which must survive a refusal).
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from api.deps import PathId, SessionDep
from api.web import auth
from api.web.render import ConsoleRoute, render
from models.errors import DomainError
from services.accounts.login_guard import source_of
from services.events.signin import Person, count_attempt, event_for_token, masked, sign_in

router = APIRouter(route_class=ConsoleRoute)
PATH = "/signin/{event_id}/{token}"


def _page(
    request: Request, event_id: int, token: str, status: int = 200, **context: object
) -> Response:
    csrf = auth.login_csrf(request)
    response = render(request, "signin.html", status_code=status, title="活动签到",
                      action=f"/signin/{event_id}/{token}", signin_csrf=csrf, **context)  # fmt: skip
    response.set_cookie(auth.LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="lax", path="/")
    return response


@router.get(PATH)
def signin_page(request: Request, event_id: PathId, token: str, session: SessionDep) -> Response:
    """The sign-in form of the event (404 for a wrong token, a notice once the link expired)."""
    event = event_for_token(session, event_id, token[:64], datetime.now(UTC))
    return _page(request, event_id, token, event=event)


@router.post(PATH)
def signin(request: Request, event_id: PathId, token: str, session: SessionDep,
           name: Annotated[str, Form(max_length=100)],
           organisation: Annotated[str, Form(max_length=300)],
           phone: Annotated[str, Form(max_length=40)],
           consent: Annotated[bool, Form()] = False,
           csrf_token: Annotated[str, Form(max_length=100)] = "") -> Response:  # fmt: skip
    """Sign in: one attendance per phone number; a refusal re-shows the form with the reason."""
    auth.check_login_csrf(request, csrf_token)
    now = datetime.now(UTC)
    person = Person(name, organisation, phone, consent)
    try:
        count_attempt(session, source_of(request.client.host if request.client else None), now)
        with session.begin_nested():
            row = sign_in(session, event_id, token[:64], person, now)
    except DomainError as refused:
        return _page(request, event_id, token, refused.status_code, error=refused.message,
                     field=refused.field, person=person)  # fmt: skip
    return render(request, "signin_done.html", title="签到成功", name=row.name,
                  phone=masked(row.phone), at=row.checked_in_at)  # fmt: skip
