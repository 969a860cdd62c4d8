"""Checks on where a subscription sends its digests: one e-mail address, a webhook URL that does
not point into the center's own network (SSRF).

Every check raises `ValueError` with a Chinese message naming the field; the API schema, the
subscription service and the delivery worker all call the same functions, so data written by
any path (or left over from before these checks) is held to the same rules.
"""

import ipaddress
import socket
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
from email_validator import EmailNotValidError, validate_email

if TYPE_CHECKING:
    from models.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[IPAddress]]

_SEPARATORS = frozenset(",;<>")


def _has_control(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value)


def normalize_email(value: str, name: str = "email") -> str:
    """Exactly one plain address (no display name, list, CR/LF or control character), in its
    normalised ASCII form (an internationalised domain as punycode)."""
    if _has_control(value):
        raise ValueError(f"字段“{name}”不得包含换行符或其他控制字符")
    if any(c.isspace() or c in _SEPARATORS for c in value) or value.count("@") != 1:
        raise ValueError(f"字段“{name}”只能填写一个邮箱地址（不含姓名、空格、逗号或分号）")
    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"字段“{name}”不是有效的邮箱地址（应形如 name@example.com）") from exc
    return str(checked.ascii_email or checked.normalized)


# --- Webhook targets


def parse_webhook_url(value: str, name: str = "webhook_url") -> httpx.URL:
    """A well-formed http(s) URL with a host and no credentials (the policy decides the rest)."""
    if _has_control(value) or any(c.isspace() for c in value):
        raise ValueError(f"字段“{name}”不得包含空格、换行符或其他控制字符")
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValueError(f"字段“{name}”不是有效的 URL") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"字段“{name}”须为 https:// 开头的完整地址")
    if url.userinfo:
        raise ValueError(f"字段“{name}”不得包含用户名或密码")
    return url


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal is itself); OSError if it resolves to none."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local use): the last 32 bits are an IPv4 address.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None or ip.sixtofour is not None:
        return ip.ipv4_mapped or ip.sixtofour
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """Globally routable unicast: not private, loopback, link-local, multicast or reserved, nor
    an IPv6 address that carries such an IPv4 address (mapped, 6to4 or NAT64)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public(inner):
            return False
        if ip.ipv4_mapped is not None:
            return True  # judged by the IPv4 address it maps
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class WebhookTarget:
    """Where to connect (a checked IP), and the name the request and TLS must carry."""

    url: httpx.URL
    hostname: str
    ip: IPAddress

    @property
    def pinned_url(self) -> httpx.URL:
        """The URL with the checked IP in place of the name (so no second DNS answer is used)."""
        return self.url.copy_with(host=str(self.ip))

    @property
    def host_header(self) -> str:
        """The `Host` header: the original host, with its port when not the default one."""
        return self.url.netloc.decode("ascii")


@dataclass(frozen=True)
class WebhookPolicy:
    """Which webhook targets are acceptable: https only and public addresses only, unless an
    operator allowed http (tests, development) or named hosts/networks (an internal receiver)."""

    allow_http: bool = False
    allowed_hosts: Sequence[str] = ()
    resolver: Resolver | None = field(default=None, compare=False)  # None: the system's DNS

    @classmethod
    def from_settings(cls, settings: "Settings") -> "WebhookPolicy":
        """The policy the running service uses (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOWED_HOSTS)."""
        return cls(settings.webhook_allow_http, tuple(settings.webhook_allowed_hosts))

    def _networks(self) -> list[IPNetwork]:
        nets = []
        for entry in self.allowed_hosts:
            try:
                nets.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                continue  # a host name, matched by name
        return nets

    def _allowed(self, hostname: str, ip: IPAddress) -> bool:
        names = {h.strip().lower() for h in self.allowed_hosts}
        if hostname.lower() in names or is_public(ip):
            return True
        return any(ip in net for net in self._networks())

    def check_url(self, value: str, name: str = "webhook_url") -> httpx.URL:
        """The URL if its scheme is allowed (no DNS look-up); ValueError if not."""
        url = parse_webhook_url(value, name)
        if url.scheme == "http" and not self.allow_http:
            raise ValueError(f"字段“{name}”须使用 https（仅测试或开发环境可配置允许 http）")
        return url

    def target(self, value: str, name: str = "webhook_url") -> WebhookTarget:
        """Resolve the URL's host now and check every address it has; the first one is where
        to connect. ValueError for a refused target, OSError when the name does not resolve."""
        url = self.check_url(value, name)
        host = url.raw_host.decode("ascii")  # an internationalised name as punycode
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = (self.resolver or resolve_host)(host, port)
        if not addresses:
            raise OSError(f"主机 {host} 无法解析")
        refused = [ip for ip in addresses if not self._allowed(host, ip)]
        if refused:
            raise ValueError(
                f"字段“{name}”的主机 {host} 指向内网、回环、链路本地、组播或保留地址"
                f"（{refused[0]}），不能作为 Webhook 目标"
            )
        return WebhookTarget(url, host, addresses[0])
