"""What the pages for people tell the browser, decided once: the account pages and the rate limiter's page alike.

The pages load nothing from another host and run no inline script; they are never framed, and a link out of
them tells the other site nothing of where it came from.
"""

from __future__ import annotations

from typing import Final

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS: Final = {"Content-Security-Policy": CSP, "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}
