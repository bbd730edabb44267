"""Keep the crawler from being turned against its own network.

Pages choose where links and redirects point. The crawler fetches only
http(s), never cloud metadata or link-local addresses, and, unless
``ALLOW_PRIVATE_NETWORKS`` is on, nothing that is not a public address
(private, loopback, shared, reserved, multicast). Every request is checked
before it is sent, redirects and retries included: the scheme, then the
address, an IP literal as written or a name as the DNS resolver answers.
The resolver checks again when the connection is made.
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services: AWS/GCP/Azure/OpenStack, AWS ECS, AWS IPv6, Alibaba, Oracle.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
# IPv6 ranges that carry an IPv4 address in their last 32 bits: NAT64 (well-known and local-use)
# and the deprecated IPv4-compatible ::a.b.c.d
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Not global, though the ipaddress module of Python 3.11 says otherwise for some of them.
NOT_GLOBAL = tuple(ipaddress.ip_network(n) for n in ("192.0.0.0/24", "fec0::/10"))
SCHEMES = ("http", "https")


class BlockedAddress(DNSLookupError):
    """A host that resolves to an address the crawler must not connect to."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6 address."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if any(address in network for network in NAT64) or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def blocked_reason(address: IPAddress | str, allow_private: bool = False) -> str:
    """Why an address must not be fetched, or '' when it may be."""
    if isinstance(address, str):
        address = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    inner = embedded_ipv4(address)
    if inner is not None:
        return blocked_reason(inner, allow_private)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if allow_private:
        return ""
    if address.is_loopback:
        return "a loopback address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved or not address.is_global:
        return "not a public address"
    if any(address in network for network in NOT_GLOBAL):
        return "not a public address"
    return ""


@lru_cache(maxsize=4096)  # every request asks, and a crawl meets few hosts and addresses
def address_reason(address: str, allow_private: bool = False) -> str:
    """:func:`blocked_reason` of an address written as text."""
    return blocked_reason(address, allow_private)


def check_url(url: str, allow_private: bool = False) -> str:
    """Why a URL must not be fetched before any lookup (scheme, IP literal), or ''."""
    try:
        scheme, host = scheme_and_host(url)
    except ValueError:
        return "not a URL"
    return host_reason(scheme, host, allow_private)


def scheme_and_host(url: str) -> tuple[str, str]:
    """A URL's scheme and host name (an IPv6 literal without its brackets); ValueError when it is no URL."""
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").strip("[]")


@lru_cache(maxsize=4096)
def host_reason(scheme: str, host: str, allow_private: bool = False) -> str:
    """:func:`check_url` of a URL's scheme and host name (or IP literal)."""
    if scheme not in SCHEMES:
        return f"scheme {scheme or 'none'!r} is not http(s)"
    if not host:
        return "no host"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return "" if allow_private else "a loopback address"
        return ""
    return blocked_reason(address, allow_private)


class AddressGuardMiddleware:
    """Refuses other schemes, IP literals outside the allowed ranges and names that resolve to them.

    Every request passes here, redirects and retries included (each is a new
    request). A name is resolved through the reactor's resolver, whose cache
    the download then reads, so the address checked is the address connected
    to. Refusals are ``IgnoreRequest``: never retried, counted as
    ``errors/blocked_address``.
    """

    def __init__(self, allow_private: bool, stats):
        self.allow_private = allow_private
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.get("REPLAY_WARC") or crawler.settings.getbool("REPLAY_STREAM"):
            raise NotConfigured  # replaying: no request reaches the network
        return cls(crawler.settings.getbool("ALLOW_PRIVATE_NETWORKS"), crawler.stats)

    async def process_request(self, request: Request):
        try:
            scheme, host = scheme_and_host(request.url)
            reason = host_reason(scheme, host, self.allow_private)
        except ValueError:
            host, reason = "", "not a URL"
        if not reason and not _is_ip_literal(host):
            address = await resolve(host)
            if address:
                reason = address_reason(address, self.allow_private)
                reason = reason and f"{reason}: {host} resolves to {address}"
        if reason:
            self.stats.inc_value("netguard/blocked")
            raise IgnoreRequest(f"blocked address ({reason})")
        return None


async def resolve(host: str) -> str:
    """The address the download will connect to, from the reactor's resolver; '' when the name does not resolve."""
    from twisted.internet import reactor

    resolver = reactor.resolver
    lookup = resolver.lookup if isinstance(resolver, GuardedResolver) else resolver.getHostByName
    try:
        return await maybe_deferred_to_future(lookup(host))
    except DNSLookupError:  # the download fails the same way and reports it (errors/dns)
        return ""


@lru_cache(maxsize=4096)
def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing names that resolve to blocked addresses.

    The last line of defence: the middleware above refuses such names with a
    clear reason before any connection; this catches whatever reaches the
    connection without passing there.
    """

    allow_private = False

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool("ALLOW_PRIVATE_NETWORKS")
        return resolver

    def lookup(self, name: str):
        """Resolve (through the cache) without the check: for callers that check the address themselves."""
        return super().getHostByName(name)

    def getHostByName(self, name: str, timeout=()):
        d = super().getHostByName(name, timeout)
        d.addCallback(self._check, name)
        return d

    def _check(self, address: str, name: str) -> str:
        try:
            reason = address_reason(address, self.allow_private)
        except ValueError:
            return address
        if reason:
            logger.warning("blocked %s: it resolves to %s (%s)", name, address, reason)
            raise BlockedAddress(f"blocked address: {name} resolves to {address}, {reason}")
        return address
