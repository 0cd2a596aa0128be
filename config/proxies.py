"""The client's address behind the reverse proxies we trust (settings.TRUSTED_PROXY_COUNT).

django-axes (AXES_CLIENT_IP_CALLABLE) and django-ratelimit (RATELIMIT_IP_META_KEY) both count per this address.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind N trusted proxies the N-th address from the right of X-Forwarded-For.

    Each proxy appends the address it was reached from, so the last N entries are ours to trust; anything left
    of them was written by the client and may be forged. With fewer entries than proxies the request did not come
    through them all, and REMOTE_ADDR is the best we know (as werkzeug's ProxyFix does).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:  # a proxy that writes "host:port" or garbage: never let it break the rate limits
        return remote
