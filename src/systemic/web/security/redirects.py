"""Where a page may send the browser next: only a path on this site.

One rule for every ``next`` the app follows or links to (after signing in, the
Back and Cancel links of the add and edit forms, where a saved form returns).
Browsers read a backslash as a slash and drop tabs and newlines from a URL, so
``/\\evil.example/`` and ``/<TAB>/evil.example/`` both lead off-site as
``//evil.example/`` does; anything that is not plainly a local path is refused.

>>> safe_next("/mission?x=1"), safe_next("//evil.example/"), safe_next("https://x")
('/mission?x=1', '/', '/')
>>> safe_next("/\\\\evil.example/"), safe_next("/\\t/evil.example/"), safe_next("/%5Cevil/")
('/', '/', '/')
>>> safe_next("javascript:alert(1)", default="")
''
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

#: Longest return address kept (a longer one is refused, not cut).
MAX_NEXT_LENGTH = 2000


def _is_local_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return False
    if "\\" in text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def safe_next(raw: object, default: str = "/") -> str:
    """``raw`` when it is a path on this site, else ``default`` (never another site).

    The decoded form is checked too, so an encoded backslash or tab (``%5C``,
    ``%09``) that a later step might decode is refused as well.
    """
    text = str(raw or "")
    if not text or len(text) > MAX_NEXT_LENGTH:
        return default
    if not (_is_local_path(text) and _is_local_path(unquote(text))):
        return default
    return text
