"""The signed-in user's own account: changing one's password.

``GET /account/password`` shows the form; ``POST /account/password`` checks the
current password, sets the new one and ends every session the user had (on other
browsers and devices too: a stolen cookie stops working). This browser is signed
in again with a fresh session, so the person carries on where they were.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from systemic.store.accounts import (
    AccountError,
    InvalidCredentialsError,
    change_password,
    record_event,
    start_session,
)
from systemic.web.deps import submitted_form
from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.site import render
from systemic.web.security.identity import require_role
from systemic.web.security.session import SessionCodec, cookie_options, new_session

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_role("viewer"))])

PASSWORD_PATH = "/account/password"


def _page(
    request: Request, ctx: PageContext, *, errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "account_password.html",
        title="Change your password",
        workspace_name=ctx.name,
        status_code=status,
        errors=errors,
        done=request.query_params.get("changed") == "1",
    )


@router.get(PASSWORD_PATH, response_class=HTMLResponse)
def password_form(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """The form for changing one's own password."""
    if getattr(request.state, "user", None) is None:  # an open app has no accounts
        return HTMLResponse("Not found", status_code=404)
    return _page(request, ctx, errors={})


@router.post(PASSWORD_PATH, response_class=HTMLResponse)
def change_own_password(
    request: Request,
    ctx: PageContext = Depends(page_context),
    form: FormData = Depends(submitted_form),
) -> Response:
    """Change one's password; every session of the user ends, this browser signs in anew."""
    user = getattr(request.state, "user", None)
    if user is None:
        return HTMLResponse("Not found", status_code=404)
    current = str(form.get("current_password", ""))
    new = str(form.get("new_password", ""))
    if new != str(form.get("confirm_password", "")):
        errors = {"confirm_password": "The two new passwords are not the same; type it again."}
        return _page(request, ctx, errors=errors, status=422)
    try:
        ended = change_password(ctx.session, user.username, current, new)
    except InvalidCredentialsError:
        ctx.session.rollback()
        errors = {"current_password": "The current password is not right."}
        return _page(request, ctx, errors=errors, status=422)
    except AccountError as exc:
        ctx.session.rollback()
        text = str(exc)
        return _page(
            request, ctx, errors={"new_password": text[:1].upper() + text[1:] + "."}, status=422
        )
    settings = request.app.state.security
    secret = start_session(
        ctx.session, user.user_id, max_age=timedelta(seconds=settings.session_max_age)
    )
    record_event(
        ctx.session,
        actor=user.username,
        action="change_password",
        workspace_id=user.workspace_id,
        object_kind="user_account",
        object_id=user.user_id,
        after={"sessions_ended": ended},
        ip=str(getattr(request.state, "client_ip", "")),
    )
    ctx.session.commit()
    codec = SessionCodec(settings.secret_key, max_age=settings.session_max_age)
    response = RedirectResponse(f"{PASSWORD_PATH}?changed=1", status_code=303)
    response.set_cookie(
        settings.cookie_name,
        codec.dump(new_session(user.user_id, secret)),
        **cookie_options(
            secure=bool(getattr(request.state, "https", False)),
            max_age=settings.session_max_age,
        ),
    )
    return response
