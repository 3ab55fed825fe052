"""The browser side of notify: the dashboard page and its login.

A browser's ``EventSource`` cannot send an Authorization header, so the dashboard logs in with a
form served here: notify forwards the username and password to the service that issues tokens
(intake's ``POST /api/v1/auth/token``, ``XF_NOTIFY_AUTH_URL``) and keeps the token it gets in
an HttpOnly, SameSite=Strict cookie (Secure with ``XF_NOTIFY_COOKIE_SECURE``). The page, its
live stream and its calls then authenticate by that cookie. Notify stores no password.
"""

from __future__ import annotations

import html
import json
import logging
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from xinfang_shared.auth.deps import AuthHTTPError, get_scope
from xinfang_shared.auth.models import ROLE_LABELS
from xinfang_shared.auth.scope import org_name
from xinfang_shared.auth.security import InvalidToken, service_token
from xinfang_shared.auth.views import FORWARDED_ADDRESS_HEADER
from xinfang_shared.runtime import ServiceRuntime

from xinfang_notify import auth
from xinfang_notify.config import NotifySettings

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
FORM_MAX_BYTES = 4096

STYLE = """
 body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem;background:#f6f7f9;color:#222}
 h1{font-size:1.4rem} #status{color:#666;font-size:.9rem}
 ul{list-style:none;padding:0} li{background:#fff;margin:.5rem 0;padding:.8rem 1rem;border-left:6px solid #999;border-radius:4px}
 li.yellow{border-color:#e6a700} li.red{border-color:#d0312d} li.urgent{border-color:#8b0000;background:#fff3f3}
 .t{font-weight:bold} .m{color:#666;font-size:.85rem}
 #who{float:right;font-size:.9rem;color:#444} #who form{display:inline}
 form.login{background:#fff;padding:1.5rem;border-radius:6px;max-width:22rem}
 form.login label{display:block;margin:.6rem 0} form.login input{width:100%;padding:.4rem;box-sizing:border-box}
 .error{color:#b00020;font-weight:bold}
"""

LOGIN_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>登录 · 信访实时预警</title><style>{style}</style></head>
<body><h1>信访实时预警与催办 · 登录</h1>
<form class="login" method="post" action="/login">
 {message}
 <input type="hidden" name="next" value="{next}">
 <label>用户名 <input name="username" autocomplete="username" value="{username}" required autofocus></label>
 <label>密码 <input name="password" type="password" autocomplete="current-password" required></label>
 <button type="submit">登录</button>
</form></body></html>"""

DASHBOARD_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>信访实时预警</title><style>{style}</style></head>
<body><div id="who">当前用户：<b id="user">{user}</b> · <span id="unit">{unit}</span> · {role}
 <form method="post" action="/logout"><button type="submit">退出登录</button></form></div>
<h1>信访实时预警与催办{title}</h1><div id="status">正在连接…</div><ul id="list"></ul>
<script>
const list = document.getElementById('list'), status = document.getElementById('status');
const org = {org};
const relogin = () => {{
  location.href = '/login?expired=1&next=' + encodeURIComponent(location.pathname + location.search);
}};
const es = new EventSource('/api/v1/stream?since=0' + (org ? '&org=' + encodeURIComponent(org) : ''));
es.onopen = () => status.textContent = '已连接，实时接收中';
es.onerror = async () => {{
  if (es.readyState !== EventSource.CLOSED) {{ status.textContent = '连接中断，正在重连…'; return; }}
  // the server refused the stream: most likely the login expired
  const r = await fetch('/api/v1/me');
  if (r.status === 401) relogin(); else status.textContent = '无法接收通知，请刷新页面';
}};
async function ack(alertId, btn) {{
  const r = await fetch('/api/v1/alerts/' + alertId + '/ack', {{method: 'POST',
    headers: {{'Content-Type': 'application/json'}}, body: '{{}}'}});
  if (r.status === 401) return relogin();
  const j = await r.json();
  btn.replaceWith(document.createTextNode(r.ok ? '已签收：' + j.acknowledged_by : j.message));
}}
const byEvent = new Map();  // one card per event, listing everyone it went to
es.addEventListener('notification', (e) => {{
  const n = JSON.parse(e.data);
  const known = byEvent.get(n.source_event_id);
  if (known) {{
    known.recipients.push(n.recipient);
    known.li.querySelector('.r').textContent = known.recipients.join('、');
    return;
  }}
  const li = document.createElement('li');
  li.className = n.level;
  li.innerHTML = '<div class="t"></div><div class="b"></div><div class="m"><span class="c"></span> · 送达：<span class="r"></span> · <span class="w"></span></div>';
  li.querySelector('.t').textContent = n.title;
  li.querySelector('.b').textContent = n.body;
  li.querySelector('.c').textContent = n.case_number;
  li.querySelector('.r').textContent = n.recipient;
  li.querySelector('.w').textContent = new Date(n.created_at).toLocaleString('zh-CN', {{timeZone: 'Asia/Shanghai'}});
  if (n.alert_id) {{
    const b = document.createElement('button');
    b.textContent = '签收';
    b.onclick = () => ack(n.alert_id, b);
    li.querySelector('.m').append(' ', b);
  }}
  byEvent.set(n.source_event_id, {{li, recipients: [n.recipient]}});
  list.prepend(li);
}});
</script></body></html>"""

MESSAGE_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>信访实时预警</title><style>{style}</style>
</head><body><h1>信访实时预警与催办</h1><p class="error">{message}</p><p><a href="/">返回看板</a></p>
</body></html>"""


def _settings(request: Request) -> NotifySettings:
    rt: ServiceRuntime = request.app.state.runtime
    settings: NotifySettings = rt.settings  # type: ignore[assignment]
    return settings


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_page(
    *, message: str = "", next_url: str = "/", username: str = "", status: int = 200
) -> HTMLResponse:
    page = LOGIN_HTML.format(
        style=STYLE,
        message=f'<p class="error" id="error">{html.escape(message)}</p>' if message else "",
        next=html.escape(safe_next(next_url)),
        username=html.escape(username),
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def _to_login(request: Request, *, expired: bool) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"expired": "1"} if expired else {}
    query["next"] = here
    resp = RedirectResponse("/login?" + urlencode(query, quote_via=quote), status_code=303)
    if expired:
        _forget(request, resp)
    return resp


def _forget(request: Request, resp: Response) -> None:
    resp.delete_cookie(
        auth.COOKIE,
        path="/",
        secure=_settings(request).cookie_secure,
        httponly=True,
        samesite="strict",
    )


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, expired: bool = False, next: str = "/") -> HTMLResponse:
    return login_page(message="登录已过期，请重新登录" if expired else "", next_url=next)


@router.post("/login")
async def login(request: Request) -> Response:
    """Forward the form's credentials to the token issuer; on success keep the token in the
    session cookie and go on to the dashboard."""
    raw = await request.body()
    if len(raw) > FORM_MAX_BYTES:
        return login_page(message="提交的内容过长", status=413)
    try:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), max_num_fields=10).items()}
    except (UnicodeDecodeError, ValueError):
        return login_page(message="提交的内容无法识别", status=400)
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_url = safe_next(form.get("next"))
    if not username or not password:
        return login_page(
            message="请输入用户名和密码", next_url=next_url, username=username, status=422
        )
    settings = _settings(request)
    client: httpx.AsyncClient = request.app.state.login_client
    rt_settings = request.app.state.runtime.settings
    # the issuer's throttle counts the browser's address, which this service vouches for
    forwarded = {
        "Authorization": "Bearer "
        + service_token(
            "notify", secret=rt_settings.auth_secret, ttl_s=60, org_code=rt_settings.org_scope
        ),
        FORWARDED_ADDRESS_HEADER: request.client.host if request.client else "unknown",
    }
    try:
        r = await client.post(
            settings.auth_url + "/api/v1/auth/token",
            data={"username": username, "password": password},
            headers=forwarded,
        )
    except httpx.HTTPError as exc:
        log.warning("login: the token issuer at %s is unreachable: %s", settings.auth_url, exc)
        return login_page(
            message="登录服务暂不可用，请稍后再试", next_url=next_url, username=username, status=502
        )
    if r.status_code == 401:  # the issuer's words: they say where accounts log in
        message = str(_json(r).get("message") or "用户名或密码错误")
        return login_page(message=message, next_url=next_url, username=username, status=401)
    if r.status_code != 200:
        message = "登录服务暂不可用，请稍后再试"
        status = 502
        if 400 <= r.status_code < 500:  # e.g. a locked account: say what the issuer said
            body = _json(r)
            message, status = str(body.get("message") or "登录失败"), r.status_code
        log.warning("login: the token issuer answered %s: %s", r.status_code, r.text[:300])
        return login_page(message=message, next_url=next_url, username=username, status=status)
    body = _json(r)
    token = str(body.get("access_token") or "")
    rt: ServiceRuntime = request.app.state.runtime
    try:
        auth.read(token, rt)
    except (InvalidToken, KeyError, ValueError) as exc:
        # e.g. notify and intake configured with different XF_AUTH_SECRET
        log.error("login: the token from %s does not verify here: %s", settings.auth_url, exc)
        return login_page(
            message="登录服务签发的凭证无法在本服务验证，请联系管理员",
            next_url=next_url,
            username=username,
            status=502,
        )
    resp = RedirectResponse(next_url, status_code=303)
    max_age = body.get("expires_in")
    resp.set_cookie(
        auth.COOKIE,
        token,
        max_age=max_age if isinstance(max_age, int) and max_age > 0 else None,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return resp


def _json(r: httpx.Response) -> dict[str, Any]:
    try:
        doc = r.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


@router.post("/logout")
async def logout(request: Request) -> Response:
    resp = RedirectResponse("/login", status_code=303)
    _forget(request, resp)
    return resp


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, org: str | None = None) -> Response:
    """The live dashboard of the logged-in user (the login form without a valid session)."""
    token = request.cookies.get(auth.COOKIE)
    if not token:
        return _to_login(request, expired=False)
    try:
        principal, _ = auth.read(token, request.app.state.runtime)
    except InvalidToken:
        return _to_login(request, expired=True)
    tree = request.app.state.notify.nc.tree
    try:
        scope = await get_scope(principal, tree)
        if org:
            auth.narrow(scope, org)
    except AuthHTTPError as exc:
        page = MESSAGE_PAGE.format(style=STYLE, message=html.escape(exc.body["message"]))
        return HTMLResponse(page, status_code=exc.status_code)
    unit = org_name(tree, principal.org_code) or principal.org_code
    title = f"（{html.escape(org_name(tree, org) or org if org else unit)}）"
    page = DASHBOARD_HTML.format(
        style=STYLE,
        user=html.escape(f"{principal.name}（{principal.username}）"),
        unit=html.escape(unit),
        role=html.escape(ROLE_LABELS[principal.role]),
        title=title,
        org=_js_string(org or ""),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


def _js_string(value: str) -> str:
    """A JavaScript string literal safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
