"""Server-side request forgery guard: a webhook may only target public addresses unless allowed."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeTarget(ValueError):
    """The URL resolves to an address we refuse to call."""


def _refused(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool, allow_private: bool
) -> str | None:
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip.is_link_local:
        return "link-local"  # includes the cloud metadata address 169.254.169.254
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "non-routable"
    if ip.is_private:
        return None if allow_private else "private"
    return None


def check_target(url: str, *, allow_loopback: bool = False, allow_private: bool = False) -> None:
    """Raise UnsafeTarget unless every address the host resolves to is acceptable."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTarget("webhook URL must be http(s) with a host")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise UnsafeTarget(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        reason = _refused(ip, allow_loopback, allow_private)
        if reason:
            raise UnsafeTarget(f"{parts.hostname} resolves to {ip}, a {reason} address")
