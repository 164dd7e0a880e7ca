"""Auth0's documented Management API rate limits (``rate_limits.json``, the one table) and the
share of them a deploy may spend.

The table lists, per subscription tier, the Management API's global bucket and the endpoint
buckets a request also falls in, as Auth0's Rate Limit Configurations pages give them (their
addresses are the table's ``sources``). The auth0 provider plugin that ``scripts/engine`` builds
embeds the same file and paces every Management API request of a deploy to ``share`` times each
bucket it falls in (``devtools/engine/auth0-provider/pacing``); the deploy's environment names
the tier and the share (``AUTH0_RATE_LIMIT_TIER``, ``AUTH0_RATE_LIMIT_SHARE``). This module reads
the table for Python: the checks of those two variables, the commands' ``--tier``, and the
benchmarks' floors.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parent / "rate_limits.json"
TIER_VARIABLE = "AUTH0_RATE_LIMIT_TIER"
SHARE_VARIABLE = "AUTH0_RATE_LIMIT_SHARE"
DEFAULT_TIER = "enterprise-production"
DEFAULT_SHARE = 0.5
"""Half of each documented bucket: the other half is left to the tenant's own applications,
which share the tenant's limits with a deploy (Rate Limit Policy)."""
PARALLEL_VARIABLE = "PULUMI_PARALLEL"


@dataclass(frozen=True)
class Bucket:
    """One documented bucket: at most ``burst`` requests, refilled ``per_second``. An endpoint
    bucket also names the requests it counts."""

    name: str
    burst: int
    per_second: float
    methods: frozenset[str] = frozenset()
    path_pattern: str = ""
    query: str | None = None
    refill_step_s: float = 0.001
    """How often Auth0 adds requests to it: a rate per second by the millisecond, a rate per
    minute by the second (Rate Limit Policy, "Rate limit algorithm")."""

    def capacity(self, share: float) -> float:
        """How many requests a pace at ``share`` of this bucket may send at once: its share of
        the burst, but at most the burst less one request and what the pace refills in one of
        Auth0's steps, and at least one.

        A pace refills continuously; Auth0 adds a step's worth at once. Once both are spent, a
        pace at (nearly) the whole rate is ahead of the tenant by up to one step of its refill
        (and a request on its way): 2.5 requests of Write Organizations at the whole tier,
        which the tenant would refuse. At half it changes nothing: the tenant's other half
        covers it."""
        return max(
            1.0,
            min(self.burst * share, self.burst - 1 - self.per_second * share * self.refill_step_s),
        )

    def counts(self, method: str, path: str, query: Mapping[str, str] | None = None) -> bool:
        """Whether a request falls in this endpoint bucket."""
        return (
            method.upper() in self.methods
            and re.search(self.path_pattern, path) is not None
            and (self.query is None or self.query in (query or {}))
        )


@dataclass(frozen=True)
class Tier:
    name: str
    management: Bucket
    endpoints: tuple[Bucket, ...]

    def buckets_of(
        self, method: str, path: str, query: Mapping[str, str] | None = None
    ) -> tuple[Bucket, ...]:
        """The buckets a Management API request spends: the global one and its endpoint's."""
        return (self.management, *(e for e in self.endpoints if e.counts(method, path, query)))


@cache
def table() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(TABLE.read_text(encoding="utf-8"))
    return loaded


def operation_timeout_s() -> int:
    """How long the paced auth0 plugin gives a resource operation, its wait in the pacer
    included (the table's ``deploy`` entry; Terraform's plugin SDK alone gives 20 minutes)."""
    return int(table()["deploy"]["operationTimeoutMinutes"] * 60)


def step_wait_max_s() -> int:
    """The longest a deploy's resource operation should wait for its turn in the pacer: a
    quarter of its time is left for its requests and a retry."""
    return operation_timeout_s() * 3 // 4


def tier_names() -> tuple[str, ...]:
    return tuple(table()["tiers"])


def tier(name: str) -> Tier:
    """The documented tier ``name``; an unknown name is refused, naming the choices."""
    tiers = table()["tiers"]
    if name not in tiers:
        raise ValueError(f"unknown rate-limit tier {name!r}; use one of {', '.join(tiers)}")
    entry = tiers[name]
    management = entry["management"]
    return Tier(
        name,
        Bucket("Management API", management["burst"], management["perSecond"]),
        tuple(
            Bucket(
                e["name"],
                e["burst"],
                e["perSecond"],
                frozenset(e["methods"]),
                e["pathPattern"],
                e.get("query"),
                1.0 if "perMinute" in e else 0.001,
            )
            for e in entry["endpoints"]
        ),
    )


def share(value: str) -> float:
    """A share of the limits, more than 0 and at most 1; anything else is refused."""
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0 < number <= 1:
        raise ValueError(
            f"{SHARE_VARIABLE}={value!r} is not a share of the rate limit; use a number above 0 "
            f"and at most 1 (default {DEFAULT_SHARE})"
        )
    return number


def from_environment(environment: Mapping[str, str]) -> tuple[Tier, float]:
    """The tier and share a deploy's environment names (defaults: enterprise-production, half),
    refused with the variable's name and the choices."""
    name = environment.get(TIER_VARIABLE) or DEFAULT_TIER
    try:
        chosen = tier(name)
    except ValueError as error:
        raise ValueError(f"{TIER_VARIABLE}: {error}") from None
    raw = environment.get(SHARE_VARIABLE)
    return chosen, DEFAULT_SHARE if not raw else share(raw)


def floor_seconds(tier: Tier, share: float, requests: Mapping[tuple[str, str], int]) -> float:
    """The least time the tier's buckets at ``share`` allow for ``requests`` (a count per
    (method, path)): for each bucket, what exceeds its share of the burst, at its share of the
    sustained rate; the slowest bucket sets the floor."""
    return slowest_bucket(tier, share, requests)[0]


def slowest_bucket(
    tier: Tier, share: float, requests: Mapping[tuple[str, str], int]
) -> tuple[float, Bucket | None, int]:
    """``floor_seconds``, with the bucket that sets it (the first of equals; None when every
    request fits in the bursts) and how many of the requests it counts."""
    spent: dict[Bucket, int] = {}
    for (method, path), count in requests.items():
        for bucket in tier.buckets_of(method, path):
            spent[bucket] = spent.get(bucket, 0) + count
    slowest: tuple[float, Bucket | None, int] = (0.0, None, 0)
    for bucket, count in spent.items():
        seconds = max(0.0, count - bucket.burst * share) / (bucket.per_second * share)
        if seconds > slowest[0]:
            slowest = (seconds, bucket, count)
    return slowest


OPERATION_REQUESTS = 2
"""Management API requests a deploy's operation sends at most: the create (or update) and the
provider's read-back (the plugin answers the read-back of an organization, its connection and
its discovery domain from the create's answer, and of a connection's update from the update's:
devtools/engine/auth0-provider/pacing/readback.go). Each spends the global bucket; an endpoint
bucket counting writes gets the write."""

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def deploy_parallelism(tier: Tier, share: float, *, refresh: bool = False) -> int:
    """How many resource operations a deploy runs at once (``PULUMI_PARALLEL``).

    An operation waiting in the pacer holds one of the engine's slots, and the engine hands
    them out in the order the program registers resources: with 8 (its default on 2 vCPU), a
    stack's connections and discovery domains wait behind every one of its organizations, and
    the buckets are spent one after the other instead of together (300 organizations took
    632 s with 8; docs/scale.md, Operations in flight). So as many
    operations run at once as the slowest bucket they wait in serves at ``share`` in
    ``step_wait_max_s``, counting the requests each one sends in it: the last of them still
    starts well within the time the paced plugin gives an operation (``operation_timeout_s``;
    at half of Enterprise, 13,500: every organization of a 10,000-organization stack at once,
    each connection started as soon as its organization exists). An ``up`` waits in the global
    bucket and the buckets that count writes (its reads are the read-backs, the slow ones
    answered by the plugin); a command that refreshes (``--refresh``, ``pulumi refresh``)
    also reads every resource from the tenant, so it waits in every bucket, reads too (on
    Enterprise, "Read Organization Connections": 100 a minute against 150 for the writes)."""
    serves = [tier.management.per_second / OPERATION_REQUESTS]
    serves += [bucket.per_second for bucket in tier.endpoints if refresh or bucket.methods & WRITES]
    return max(8, math.floor(step_wait_max_s() * min(serves) * share))


POOL_DIRECTORY = "auth0-org-assignment-pace-{uid}"
"""Where, under the temporary directory, a user's deploys keep the Management API's global
bucket their processes share (``Pacer``'s ``pool``): a directory of the user's own (mode 0700,
checked), so no other user can read, lock or replace what is in it. The auth0 plugin's pacer
uses the same files (``pacing/pool.go``)."""

POOLED_PROCESSES = 2
"""The processes of a deploy that pace the global bucket: the auth0 plugin (one process for the
default provider; a program that declares more auth0 providers starts one for each) and the
program's dynamic resources' provider. While they cannot pool it, each keeps its own at this part
of the share (``pacing.PooledProcesses`` in Go), so that together they still keep to it."""


LOCK_WAIT_S = 2.0
"""How long a request waits for the pool file's lock. A process holds it for a read and a
write, microseconds, so a longer wait means one stopped while holding it (a deploy suspended
with Ctrl-Z, say): rather than wait as long as that one is stopped, the request goes apart from
the pool, and so does its process for ``HELD_APART_S`` (``pacing.LockWait`` in Go)."""

HELD_APART_S = 10.0
"""How long a process stays apart from the pool after its lock was held past ``LOCK_WAIT_S``,
before it waits for the lock again (``pacing.HeldApart`` in Go)."""


class LockHeld(TimeoutError):
    """The pool file's lock was held past ``LOCK_WAIT_S``."""

    def __init__(self) -> None:
        super().__init__(
            errno.ETIMEDOUT,
            f"its lock was held for over {LOCK_WAIT_S:g} s, by a process stopped while holding "
            "it maybe",
        )


def _lock(descriptor: int) -> None:
    """Lock the pool's file (``descriptor``) for this process, waiting at most ``LOCK_WAIT_S``
    (:class:`LockHeld`), in steps an interrupt ends; OSError when the file system cannot lock."""
    import fcntl

    deadline = time.monotonic() + LOCK_WAIT_S
    pause = 0.0005
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockHeld() from None
        time.sleep(pause)
        pause = min(2 * pause, 0.01)


def temporary_directory(environment: Mapping[str, str] = os.environ) -> Path:
    """``$TMPDIR``, else ``/tmp``: the Go pacer's ``os.TempDir`` on Unix (Python's
    ``tempfile.gettempdir`` reads more variables, which would part the two processes)."""
    return Path(environment.get("TMPDIR") or "/tmp")  # noqa: S108 (a private directory in it)


def pool_file(directory: Path, host: str, tier: str, share: float) -> Path:
    """The file holding the global bucket of the deploys pacing ``host`` at ``share`` of
    ``tier`` on the machine they run on (the Go pacer names it the same: ``poolFile``)."""
    folder = POOL_DIRECTORY.format(uid=os.getuid() if hasattr(os, "getuid") else 0)
    return directory / folder / f"{host}-{tier}-{share:.17g}"


def _open_pool(path: Path) -> int:
    """Open (creating, 0600) the pool file ``path`` in a directory of the user's own: created
    0700 unless it exists, then refused unless it is a directory, not a link, of this user's,
    that no one else may enter; the file itself is never followed through a link. OSError,
    naming what is wrong, when it cannot be used."""
    directory = path.parent
    with suppress(FileExistsError):  # (whatever it is, the check below says whether it will do)
        os.mkdir(directory, 0o700)
    status = os.lstat(directory)
    if not (
        stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and not status.st_mode & 0o077
    ):
        raise OSError(f"{directory} is not a directory of the user's own, closed to others")
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)


def _record(tokens: float, updated: float) -> bytes:
    """The pool file's content: ``tokens nanoseconds``, at a fixed width, so that writing it
    over the last one needs no more room than that took."""
    return f"{tokens:17.6f} {round(updated * 1e9):20d}\n".encode("ascii")


@contextmanager
def _pooled(
    path: Path,
    capacity: float,
    clock: Callable[[], float],
    failed: Callable[[OSError], None],
    unwritten: Callable[[OSError], None],
) -> Iterator[tuple[list[float], float] | None]:
    """The pooled bucket's ``[tokens, updated]`` (Unix seconds) and the time read once its file
    is locked against the other processes, for the block; written back after it. The file holds
    ``_record``; one empty or unreadable starts full. None, having told ``failed`` why, when the
    file cannot be opened or locked (not a Unix, a directory not the user's own, a file system
    without locks); a write that fails is told ``unwritten`` (the file keeps its last record)."""
    try:
        import fcntl  # noqa: F401 (whether this system has flock at all)

        descriptor = _open_pool(path)
    except ImportError:
        failed(OSError("this system has no flock"))
        yield None
        return
    except OSError as error:
        failed(error)
        yield None
        return
    try:
        try:
            _lock(descriptor)
        except OSError as error:
            failed(error)
            yield None
            return
        now = clock()
        try:
            tokens, nanoseconds = os.pread(descriptor, 64, 0).split()
            # Within what a pacer can leave: a file gone wrong lends no more than a full
            # bucket and holds the deploy back no more than one refill.
            # (NaN: none; the Go pacer reads it so too)
            state = [min(capacity, max(0.0, float(tokens))), min(now, int(nanoseconds) / 1e9)]
        except (OSError, ValueError):
            state = [capacity, now]
        yield state, now
        record = _record(*state)
        try:
            os.pwrite(descriptor, record, 0)
            os.ftruncate(descriptor, len(record))
        except OSError as error:
            unwritten(error)
    finally:
        with suppress(OSError):  # (a network file system's late write error: nothing to do)
            os.close(descriptor)  # (which unlocks it)


class Pacer:
    """Token buckets at ``share`` of each of ``tier``'s (burst and refill, a burst of at least
    one), shared by the threads of a process: ``take`` waits until every bucket a Management API
    request falls in has a token, then takes one from each. The Python side of a deploy (the
    dynamic resources' calls, ``domain_proof``) paces with it; the auth0 plugin's pacer is the
    same algorithm in Go (devtools/engine/auth0-provider/pacing)."""

    def __init__(
        self,
        tier: Tier,
        share: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        headroom: bool = False,
        pool: Path | None = None,
    ) -> None:
        """``headroom``: each bucket also holds one request and one second of refill less than
        the tier's (at least one), for a run that may start while the tenant's bucket is still
        refilling from another's (the commands: a reconcile right after a backfill was refused
        23 of its requests without it, tests/commands/test_backfill.py).

        ``pool``: a directory (the temporary one, for a deploy) where the global bucket of each
        tenant is kept in a file (``pool_file``) that every process pacing it at this share
        shares: the auth0 plugin and the program's dynamic resources take from one bucket, so
        together they keep to the share. ``clock`` must then be Unix time (``time.time``).
        While the file cannot be used (not a Unix, a directory of its name not the user's own,
        a file system without locks, for a second after a write to it failed, and for
        ``HELD_APART_S`` after its lock was held past ``LOCK_WAIT_S``) a request
        takes from the process's own global bucket at its part of the share
        (``POOLED_PROCESSES``), which each pooled request lowers to what the pool holds, so
        going apart never lends more than the pool had; the pacer says so on stderr the first
        time, and tries the file again at the next request."""
        self.tier, self.share, self.pool = tier, share, pool
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        buckets = (tier.management, *tier.endpoints)
        self._capacity = {
            bucket: max(
                1.0,
                min(bucket.capacity(share), bucket.burst - 1 - math.ceil(bucket.per_second))
                if headroom
                else bucket.capacity(share),
            )
            for bucket in buckets
        }
        now = clock()
        self._state = {bucket: [self._capacity[bucket], now] for bucket in buckets}
        management = tier.management
        self._apart_limits = (
            max(1.0, management.capacity(share) / POOLED_PROCESSES),
            management.per_second * share / POOLED_PROCESSES,
        )
        self._apart = [self._apart_limits[0], now]
        self._apart_until = -math.inf  # (a write to the pool failed: apart until then)
        self._debt = 0.0  # (tokens taken apart, which the next pooled requests pay the pool)
        self._pool_failed = self._warned = False
        self._warning = ""

    def take(
        self, method: str, path: str, query: Mapping[str, str] | None = None, host: str = ""
    ) -> None:
        """Wait for a token in every bucket of a request to ``host`` (the tenant's domain,
        which names its pool), then take them."""
        buckets = self.tier.buckets_of(method, path, query)
        while True:
            with self._lock:
                with self._global(host) as pooled:
                    now = pooled[1] if pooled else self._clock()
                    states = {}
                    wait = 0.0
                    for bucket in buckets:
                        state, capacity, rate = self._bucket(bucket, pooled)
                        # (max: the wall clock a deploy's pacer reads may be set back)
                        state[0] = min(capacity, state[0] + max(0.0, now - state[1]) * rate)
                        state[1] = max(state[1], now)
                        if pooled and bucket == self.tier.management:
                            self._pay_debt(state)
                        if state[0] < 1 - 1e-9:  # (rounding: a wait too short to count)
                            wait = max(wait, (1 - state[0]) / rate)
                        states[bucket] = state
                    if wait == 0:
                        for state in states.values():
                            state[0] -= 1
                        if states.get(self.tier.management) is self._apart:
                            self._debt = min(self._debt + 1, self._capacity[self.tier.management])
                    if pooled:
                        self._lower_apart(pooled[0][0], now)
                warning, self._warning = self._warning, ""
            _say(warning)
            if wait == 0:
                return
            self._sleep(wait)

    def _bucket(
        self, bucket: Bucket, pooled: tuple[list[float], float] | None
    ) -> tuple[list[float], float, float]:
        """Where a request takes ``bucket``'s token from: its state, capacity and rate (the
        global bucket's pooled, or this process's own apart from the pool while it fails)."""
        if bucket == self.tier.management and pooled:
            return pooled[0], self._capacity[bucket], bucket.per_second * self.share
        if bucket == self.tier.management and self._pool_failed:
            return self._apart, *self._apart_limits
        return self._state[bucket], self._capacity[bucket], bucket.per_second * self.share

    def _pay_debt(self, pooled: list[float]) -> None:
        """Pay the pool what requests apart from it took, as far as it holds tokens: so a pool
        that fails on and off still gives out no more than the share (the debt is at most the
        pool's burst: one apart for long pays no more than that when it comes back)."""
        paid = min(self._debt, max(0.0, pooled[0]))
        pooled[0] -= paid
        self._debt -= paid

    def _lower_apart(self, pooled: float, now: float) -> None:
        """Refill this process's own global bucket at its part of the share, and lower it to
        the ``pooled`` tokens the pool holds now."""
        capacity, rate = self._apart_limits
        apart = self._apart
        apart[0] = min(capacity, apart[0] + max(0.0, now - apart[1]) * rate, pooled)
        apart[1] = max(apart[1], now)

    def _global(self, host: str) -> AbstractContextManager[tuple[list[float], float] | None]:
        """The pooled global bucket's state and the time, or None when this pacer keeps its
        own (no pool, or, ``_pool_failed``, one that cannot be used now)."""
        if self.pool is None or not host:
            return nullcontext(None)
        path = pool_file(self.pool, host, self.tier.name, self.share)
        now = self._clock()
        # (a window further ahead than any: the wall clock was set back since)
        self._pool_failed = now < self._apart_until <= now + HELD_APART_S
        if self._pool_failed:
            return nullcontext(None)
        return _pooled(
            path,
            self._capacity[self.tier.management],
            self._clock,
            lambda error: self._failed(path, error),
            lambda error: self._unwritten(path, error),
        )

    def _unwritten(self, path: Path, error: OSError) -> None:
        """The pool's file keeps its last record, which the next reader would refill from its
        time: apart for a second, then a write is tried again."""
        self._apart_until = self._clock() + 1
        self._failed(path, error)

    def _failed(self, path: Path, error: OSError) -> None:
        """The pool cannot be used now: the global bucket is this process's own, at its part of
        the share, until it can; noted the first time, to be said once the locks are released
        (``take``). A lock held past ``LOCK_WAIT_S`` keeps it apart for ``HELD_APART_S``."""
        self._pool_failed = True
        if isinstance(error, LockHeld):
            self._apart_until = self._clock() + HELD_APART_S
        if self._warned:
            return
        self._warned = True
        part = self.share / POOLED_PROCESSES
        self._warning = (
            f"warning: the deploy's processes cannot share the Management API's rate limit "
            f"through {path} ({error.strerror or error}); while they cannot, this one "
            f"paces it at {part:g} of the tier, its part of the share {self.share:g}, so "
            f"the deploy is slower. To share it, give the deploy a temporary directory of "
            f"its own (TMPDIR) on a Unix file system with flock."
        )


def _say(warning: str) -> None:
    """Print a pacer's warning, if any, on stderr (one that is closed: the pace holds all the
    same)."""
    if warning:
        with suppress(OSError, ValueError):
            print(warning, file=sys.stderr, flush=True)


_deploy_pacer: Pacer | None = None
_deploy_pacer_lock = threading.Lock()


def deploy_pacer(environment: Mapping[str, str] | None = None) -> Pacer:
    """The pacer of this process's deploy, from its environment (one per process)."""
    global _deploy_pacer
    with _deploy_pacer_lock:
        if _deploy_pacer is None:
            tier, share = from_environment(os.environ if environment is None else environment)
            # One global bucket with the auth0 plugin's (and any other process of the deploy).
            _deploy_pacer = Pacer(tier, share, clock=time.time, pool=temporary_directory())
        return _deploy_pacer


def print_deploy_parallelism(*, refresh: bool = False) -> None:
    """Print ``PULUMI_PARALLEL=…`` for the tier and share the environment names, for a job
    whose pulumi commands refresh or not (the paced plugin's action gives the number to a job's
    pulumi commands); an unknown tier or share fails, naming the variable."""
    try:
        tier, share = from_environment(os.environ)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"{PARALLEL_VARIABLE}={deploy_parallelism(tier, share, refresh=refresh)}")
