"""Server-side request forgery guard: a webhook may only target globally routable addresses.

"Not private" is not enough: CGNAT (100.64.0.0/10), 6to4 and NAT64 addresses that wrap loopback or
private IPv4, IPv4-mapped IPv6 and integer host spellings (`2130706433`, `0x7f.1`, `0177.0.0.1`) all
reach internal machines. The host is resolved once, every address is checked, and the connection goes
to the address that was checked (`Target.ip`), so a second DNS answer cannot rebind it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

CGNAT = ipaddress.ip_network("100.64.0.0/10")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
# A host label that inet_aton would read as a number: decimal, octal (leading 0) or hex (0x).
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class UnsafeTarget(ValueError):
    """The URL resolves to an address we refuse to call."""


@dataclass(frozen=True)
class Target:
    """A checked webhook URL and the one address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    ip: IP

    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name (Host and SNI keep the name)."""
        parts = urlsplit(self.url)
        literal = f"[{self.ip}]" if self.ip.version == 6 else str(self.ip)
        return parts._replace(netloc=f"{literal}:{self.port}").geturl()

    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition address carries (6to4, NAT64), if any."""
    if ip in SIX_TO_FOUR:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IP, allow_loopback: bool = False, allow_private: bool = False) -> str | None:
    """Why `ip` may not be called (a short phrase), or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "IPv4-mapped IPv6"
        if ip in NAT64_LOCAL:
            return "local-use NAT64"
        inner = _embedded_v4(ip)
        if inner is not None:
            reason = refusal(inner, allow_loopback, allow_private)
            return f"6to4/NAT64 wrapper of a {reason}" if reason else None
        if ip.is_site_local:
            return "site-local"  # deprecated fec0::/10: Python still calls it global
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip.is_link_local:
        return "link-local"  # includes the cloud metadata address 169.254.169.254
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "non-routable"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "carrier-grade NAT (shared)"
    if ip.is_private:
        return None if allow_private else "private"
    return None if ip.is_global else "non-global"


def _literal(host: str) -> IP | None:
    """The address a host spelled as an IP literal names; UnsafeTarget for non-canonical numbers."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if all(_NUMERIC_LABEL.match(label) for label in labels):
        # No real domain has an all-numeric name; resolvers read these as integers (2130706433,
        # 0x7f.1, 0177.0.0.1 are all 127.0.0.1), so we refuse them instead of guessing.
        raise UnsafeTarget(f"{host} is an integer, octal or hex address form; use a name or a dotted IPv4")
    if "%" in host:
        raise UnsafeTarget(f"{host} carries an IPv6 zone")
    return None


def resolve_target(url: str, *, allow_loopback: bool = False, allow_private: bool = False) -> Target:
    """Check `url` and resolve its host once: the Target to connect to, or UnsafeTarget."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeTarget("webhook URL must be http(s) with a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget(f"bad port in {url}") from exc
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnsafeTarget(f"cannot resolve {host}: {exc}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addresses:
        reason = refusal(ip, allow_loopback, allow_private)
        if reason:
            raise UnsafeTarget(f"{host} resolves to {ip}, a {reason} address")
    return Target(url=url, scheme=parts.scheme, host=host, port=port, ip=addresses[0])


def check_target(url: str, *, allow_loopback: bool = False, allow_private: bool = False) -> None:
    """Raise UnsafeTarget unless every address the host resolves to is acceptable."""
    resolve_target(url, allow_loopback=allow_loopback, allow_private=allow_private)
