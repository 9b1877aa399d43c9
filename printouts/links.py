"""Links printed on paper (QR codes, addresses): they must open on a citizen's phone, not only on this PC.

A print made on the server PC itself comes in as http://127.0.0.1:5000, so the request's own host is the
wrong address to print. Printed links use PUBLIC_BASE_URL (scheme://host[:port], no path); `serve` sets it
to the office-network address when it is not configured; without one they fall back to the request host.
"""
from __future__ import annotations

import ipaddress

from flask import current_app, url_for


def public_url(endpoint: str, **values) -> str:
    """An absolute URL for paper: on the public base address when there is one, else on the request's host."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return base + url_for(endpoint, _external=False, **values)
    return url_for(endpoint, _external=True, **values)


def reachable_base_url(address: str | None, port: int, scheme: str = "http") -> str | None:
    """http://address:port when other devices can reach `address`; None for loopback or no address."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if ip.is_loopback or ip.is_unspecified or ip.is_link_local:
        return None
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"{scheme}://{host}:{port}"
