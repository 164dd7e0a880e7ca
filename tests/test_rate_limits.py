"""The rate-limit table (auth0_org_assignment/rate_limits.json) a deploy is paced by, and the
tier and share a deploy's environment names. The pacer itself: tests/test_provider_plugin.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auth0_org_assignment import rate_limits
from devtools.localtenant import ratelimits as local_limits
from devtools.localtenant.control import TIERS as LOCAL_TIERS
from devtools.localtenant.route_names import RouteName
from devtools.localtenant.tenant import AREAS


@pytest.mark.parametrize("name", rate_limits.tier_names())
def test_the_local_tenant_enforces_each_tier_of_the_table(name: str) -> None:
    """The local tenant reads its Management API limits from the same table, and every
    endpoint bucket of it counts some route the tenant serves (no pattern is dead)."""
    assert name in LOCAL_TIERS, f"the local tenant has no tier {name!r} (control.TIERS)"
    local, table = LOCAL_TIERS[name], rate_limits.tier(name)
    assert local.management is not None
    assert table.management.burst == local.management.burst
    assert table.management.per_second == pytest.approx(local.management.refill_per_second)
    steps = {endpoint.name: endpoint.limit.step_s for endpoint in local.endpoints}
    routes = [route for area in AREAS for route in area.ROUTES if route.management]
    for bucket in table.endpoints:
        assert bucket.refill_step_s == steps.get(bucket.name, 0.001), bucket.name
        assert any(
            bucket.counts(route.method, route.example_path, {"q": "x"}) for route in routes
        ), bucket.name


def test_read_clients_counts_only_a_search() -> None:
    tier = rate_limits.tier("enterprise-production")
    assert [b.name for b in tier.buckets_of("GET", "/api/v2/clients", {"q": "name:x"})] == [
        "Management API",
        "Read Clients",
    ]
    assert [b.name for b in tier.buckets_of("GET", "/api/v2/clients")] == ["Management API"]


def test_the_environment_names_the_tier_and_share_or_is_refused_naming_the_variable() -> None:
    tier, share = rate_limits.from_environment({})
    assert (tier.name, share) == ("enterprise-production", 0.5)
    tier, share = rate_limits.from_environment(
        {"AUTH0_RATE_LIMIT_TIER": "free", "AUTH0_RATE_LIMIT_SHARE": "0.25"}
    )
    assert (tier.name, share) == ("free", 0.25)
    with pytest.raises(
        ValueError, match=r"AUTH0_RATE_LIMIT_TIER: .*'gold'.*enterprise-production, free"
    ):
        rate_limits.from_environment({"AUTH0_RATE_LIMIT_TIER": "gold"})
    for bad in ("0", "1.5", "half", "-1"):
        with pytest.raises(ValueError, match="AUTH0_RATE_LIMIT_SHARE"):
            rate_limits.from_environment({"AUTH0_RATE_LIMIT_SHARE": bad})


def test_the_floor_is_the_slowest_bucket_at_the_share() -> None:
    tier = rate_limits.tier("enterprise-production")
    # 1,000 creates: 2.5 from the half burst, then 75 a minute.
    floor = rate_limits.floor_seconds(tier, 0.5, {("POST", "/api/v2/organizations"): 1000})
    assert floor == pytest.approx((1000 - 2.5) / 1.25)
    # The same number of reads of connections go at 8 a second, the global bucket's half.
    assert rate_limits.floor_seconds(tier, 0.5, {("GET", "/api/v2/connections"): 1000}) == (
        pytest.approx((1000 - 25) / 8)
    )


ORGANIZATIONS = "/api/v2/organizations"
DISCOVERY_DOMAIN = "/api/v2/organizations/org_1/discovery-domains/dd_1"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_python_pacer_keeps_to_the_share_of_every_bucket_a_request_falls_in() -> None:
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, time.sleep)
    # Write Organizations, 5 and 150 a minute: 2 from half the burst, then 1.25 a second.
    for _ in range(77):
        pacer.take("POST", "/api/v2/organizations")
    assert time.now - 1000 == pytest.approx((77 - 2.5) / 1.25)
    # Reads of connections fall only in the global bucket (25, 8 a second at half), which the
    # writes spent too.
    started = time.now
    for _ in range(25 + 80):
        pacer.take("GET", "/api/v2/connections")
    assert time.now - started == pytest.approx(10, abs=0.5)


@pytest.mark.parametrize("share", [0.5, 0.9, 1.0])
@pytest.mark.parametrize("offset", [0.0, 0.3, 0.7])
def test_a_pace_at_any_share_is_refused_nothing_by_a_tenant_refilling_by_the_second(
    share: float, offset: float
) -> None:
    """Write Organizations refills 2.5 requests at each second (a rate per minute): a pace
    holding its whole burst at the whole tier would be ahead of it after the burst. Against the
    local tenant's limiter on one clock, its bucket started a fraction of a second after the
    pace's, creates go at the share's floor and none is refused."""
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    pacer = rate_limits.Pacer(tier, share, time.clock, time.sleep)
    tenant = local_limits.RateLimiter(LOCAL_TIERS["enterprise-production"], clock=time.clock)
    time.now += offset
    started, creates = time.now, 200
    for _ in range(creates):
        pacer.take("POST", ORGANIZATIONS)
        admitted = tenant.admit(
            "management", RouteName.ORGANIZATIONS_CREATE, {}, "POST", ORGANIZATIONS
        )
        assert admitted.allowed, admitted.bucket
    floor = rate_limits.floor_seconds(tier, share, {("POST", ORGANIZATIONS): creates})
    assert time.now - started <= floor + 2


def test_pacers_of_one_pool_keep_to_one_share_of_the_global_bucket(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The program's dynamic resources and the auth0 plugin each pace a deploy: pooled, their
    requests to one tenant take from one global bucket at the share (25, 8 a second at half),
    as one pacer's would, and say nothing; another tenant's pool is its own."""
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    pacers = [rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path) for _ in range(2)]
    for n in range(25 + 80):  # discovery domains' status writes: the global bucket only
        pacers[n % 2].take("PATCH", DISCOVERY_DOMAIN, host="acme.eu.auth0.com")
    assert time.now - 1000 == pytest.approx(80 / 8, abs=0.2)
    started = time.now
    pacers[0].take("PATCH", DISCOVERY_DOMAIN, host="other.eu.auth0.com")
    assert time.now == started
    assert rate_limits.pool_file(tmp_path, "acme.eu.auth0.com", tier.name, 0.5).exists()
    assert capsys.readouterr().err == ""


def test_the_pool_is_a_file_of_the_users_own_directory_never_a_link(tmp_path: Path) -> None:
    """The names the Go pacer's poolFile gives (pacing_test.go); a link in the file's place
    (another user's trap, or a mistake) is not followed, and a directory others may enter is
    not used: the pacer keeps its own bucket."""
    path = rate_limits.pool_file(tmp_path, "localhost:4431", "enterprise-production", 0.5)
    assert path == (
        tmp_path
        / f"auth0-org-assignment-pace-{os.getuid()}"
        / "localhost:4431-enterprise-production-0.5"
    )
    path.parent.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("keep")
    path.symlink_to(victim)
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path)
    pacer.take("PATCH", DISCOVERY_DOMAIN, host="localhost:4431")
    assert victim.read_text() == "keep"
    shared = tmp_path / "shared"
    shared.mkdir()
    folder = rate_limits.pool_file(shared, "h", tier.name, 0.5).parent
    folder.mkdir()
    folder.chmod(0o777)
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=shared)
    pacer.take("PATCH", DISCOVERY_DOMAIN, host="h")
    assert list(folder.iterdir()) == []


def test_the_pool_is_under_the_temporary_directory_the_go_pacer_reads() -> None:
    """Go's os.TempDir reads $TMPDIR alone; Python's gettempdir reads TEMP and TMP too."""
    assert rate_limits.temporary_directory({"TMPDIR": "/srv/t", "TMP": "/x"}) == Path("/srv/t")
    assert rate_limits.temporary_directory({"TMP": "/x", "TEMP": "/y"}) == Path("/tmp")  # noqa: S108


def test_pacers_that_cannot_pool_keep_to_one_share_together_and_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pool that cannot be used (here a file where its directory would be) does not fail the
    deploy's requests: each process keeps its own global bucket at its part of the share
    (half of 25 and of 8 a second), so the plugin and the dynamic resources together still
    keep to the share, as pooled (the test above), and each says why, once."""
    time = FakeTime()
    blocked = tmp_path / "a file"
    blocked.write_text("not a directory")
    tier = rate_limits.tier("enterprise-production")
    pacers = [rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=blocked) for _ in range(2)]
    for n in range(25 + 80):
        pacers[n % 2].take("PATCH", DISCOVERY_DOMAIN, host="acme.eu.auth0.com")
    assert time.now - 1000 == pytest.approx(80 / 8, abs=0.5)
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == rate_limits.POOLED_PROCESSES
    path = rate_limits.pool_file(blocked, "acme.eu.auth0.com", tier.name, 0.5)
    assert all(f"through {path} (Not a directory)" in w for w in warnings), warnings
    assert all("paces it at 0.25 of the tier" in w for w in warnings), warnings


def test_a_pool_that_fails_for_a_while_is_left_that_while_from_where_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pool that cannot be opened for a request (out of descriptors, say) is not given up:
    that request takes from the process's own bucket at its part of the share, which goes on
    from the state it last read (here spent, so it waits a quarter second at 4 a second,
    instead of lending a full bucket), and pools again once it can; said once."""
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path)
    host = "acme.eu.auth0.com"
    for _ in range(25):  # the pooled bucket's share of the burst
        pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
    assert time.now == 1000
    opened = rate_limits._open_pool

    def out_of_descriptors(path: Path) -> int:
        monkeypatch.setattr(rate_limits, "_open_pool", opened)
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(rate_limits, "_open_pool", out_of_descriptors)
    pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
    assert time.now - 1000 == pytest.approx(1 / 4)
    # After its wait the file opened again, so that request and the next took the 2 the pool
    # refilled at 8 a second.
    pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
    assert time.now - 1000 == pytest.approx(1 / 4)
    tokens, nanoseconds = rate_limits.pool_file(tmp_path, host, tier.name, 0.5).read_text().split()
    assert (float(tokens), int(nanoseconds) / 1e9) == pytest.approx((0, 1000.25), abs=1e-6)
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 1, warnings
    assert "(Too many open files)" in warnings[0]


def test_a_pool_that_cannot_be_locked_or_written_fails_no_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file system whose flock fails (some network mounts), or a full one: the request goes
    at the process's own pace, and the file keeps the last record it held."""
    import fcntl

    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    host = "acme.eu.auth0.com"
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path)
    pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
    path = rate_limits.pool_file(tmp_path, host, tier.name, 0.5)
    written = path.read_text()
    assert float(written.split()[0]) == pytest.approx(24)

    def full(descriptor: int, data: bytes, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
    assert path.read_text() == written
    monkeypatch.undo()

    def no_locks(descriptor: int, operation: int) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path)
    pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
    said = capsys.readouterr().err
    assert "(No space left on device)" in said
    assert "(No locks available)" in said


def test_a_pool_that_fails_on_and_off_lends_no_more_than_the_pool_and_the_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool fails 3 locks in 4: the requests apart take from this process's own bucket at
    its part of the share (4 a second), which pooled requests lower to what the pool holds, so
    together they take at most the share and the part (12 a second), never what the pool holds
    again at each pooled read (pacing_test.go has the same test)."""
    import fcntl

    locked, tries = fcntl.flock, [0]

    def now_and_then(descriptor: int, operation: int) -> None:
        tries[0] += 1
        if tries[0] % 4:
            raise OSError(37, "No locks available")
        locked(descriptor, operation)

    monkeypatch.setattr(fcntl, "flock", now_and_then)
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path)
    requests = 2000
    for _ in range(requests):
        pacer.take("PATCH", DISCOVERY_DOMAIN, host="acme.eu.auth0.com")
    assert time.now - 1000 >= (requests - 25 - 12.5) / 12


def test_pacers_whose_pool_fails_on_and_off_pay_it_back_and_keep_to_the_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both processes' locks fail every other time (a flaky network file system): what each
    takes apart is a debt its next pooled request pays the pool, so together they keep to the
    share (8 a second), not the share and both parts (16: pacing_test.go has the same test)."""
    import fcntl

    locked, tries, process = fcntl.flock, [0, 0], [0]

    def every_other(descriptor: int, operation: int) -> None:
        tries[process[0]] += 1  # (each process's own locks fail every other time)
        if tries[process[0]] % 2:
            raise OSError(37, "No locks available")
        locked(descriptor, operation)

    monkeypatch.setattr(fcntl, "flock", every_other)
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    pacers = [rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path) for _ in range(2)]
    requests = 4000
    for n in range(requests):
        process[0] = n % 2
        pacers[n % 2].take("PATCH", DISCOVERY_DOMAIN, host="acme.eu.auth0.com")
    assert requests / (time.now - 1000) <= 8 * 1.05


def test_a_nan_in_the_pool_file_reads_as_no_token(tmp_path: Path) -> None:
    """Not a number of tokens reads as none, as in the Go pacer: the pace holds."""
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    path = rate_limits.pool_file(tmp_path, "acme.eu.auth0.com", tier.name, 0.5)
    path.parent.mkdir(mode=0o700)
    path.write_text("NaN 1000000000000")
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path)
    for _ in range(125):
        pacer.take("PATCH", DISCOVERY_DOMAIN, host="acme.eu.auth0.com")
    assert time.now - 1000 >= 100 / 8


def test_a_lock_held_by_a_stopped_process_holds_no_request_for_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another deploy suspended while it holds the pool's lock (Ctrl-Z): a request waits
    LOCK_WAIT_S for it, then goes apart at the process's part of the share; the process stays
    apart HELD_APART_S, then waits for the lock again. Said once, naming why."""
    import fcntl
    from time import monotonic

    monkeypatch.setattr(rate_limits, "LOCK_WAIT_S", 0.2)
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    host = "acme.eu.auth0.com"
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path)
    pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
    holder = os.open(rate_limits.pool_file(tmp_path, host, tier.name, 0.5), os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        started = monotonic()
        pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
        assert 0.2 <= monotonic() - started < 1
        started = monotonic()
        for _ in range(5):
            pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
        assert monotonic() - started < 0.1
        time.now += rate_limits.HELD_APART_S
        started = monotonic()
        pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
        assert monotonic() - started >= 0.2
    finally:
        os.close(holder)
    said = capsys.readouterr().err
    assert said.count("warning:") == 1
    assert "(its lock was held for over 0.2 s, by a process stopped while holding it maybe)" in said
    # Its lock free again, the pool is used again: the next request takes from it.
    time.now += rate_limits.HELD_APART_S
    pool = rate_limits.pool_file(tmp_path, host, tier.name, 0.5)
    before = pool.read_text()
    pacer.take("PATCH", DISCOVERY_DOMAIN, host=host)
    assert pool.read_text() != before


def test_a_pool_that_cannot_be_written_is_left_a_second_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full disk: the file keeps its last record, which every reader would refill from its
    time. Each process then goes apart for a second after each failed write, so two of them
    take the share and at most a request a second each (10 a second), not an unpaced burst."""

    def full(descriptor: int, data: bytes, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    time = FakeTime()
    tier = rate_limits.tier("enterprise-production")
    pacers = [rate_limits.Pacer(tier, 0.5, time.clock, time.sleep, pool=tmp_path) for _ in range(2)]
    for n in range(25 + 80):
        pacers[n % 2].take("PATCH", DISCOVERY_DOMAIN, host="acme.eu.auth0.com")
    assert time.now - 1000 >= 80 / 10
    assert "(No space left on device)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "written", ["-1000000 0", "0 99999999999999999999", "garbage", "NaN 0", "inf 0"]
)
def test_a_pool_file_written_by_anything_else_holds_a_pacer_back_one_refill_at_most(
    tmp_path: Path, written: str
) -> None:
    """Tokens below none or a time to come (a clock set back, a file gone wrong) cost at most
    one request's refill, never a stalled deploy; one unreadable starts full."""
    time = FakeTime()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        assert len(sleeps) < 10, f"still waiting after {sum(sleeps):.0f} s"
        time.sleep(seconds)

    tier = rate_limits.tier("enterprise-production")
    path = rate_limits.pool_file(tmp_path, "acme.eu.auth0.com", tier.name, 0.5)
    path.parent.mkdir(mode=0o700)
    path.write_text(written)
    pacer = rate_limits.Pacer(tier, 0.5, time.clock, sleep, pool=tmp_path)
    pacer.take("PATCH", DISCOVERY_DOMAIN, host="acme.eu.auth0.com")
    assert time.now - 1000 <= 1 / 8 + 1e-9


def test_the_python_pacer_never_waits_for_less_than_a_whole_request() -> None:
    time = FakeTime()
    pacer = rate_limits.Pacer(rate_limits.tier("free"), 0.1, time.clock, time.sleep)
    for _ in range(3):  # a burst of 0.2 is one request; 0.2 a second
        pacer.take("GET", "/api/v2/clients")
    assert time.now - 1000 == pytest.approx(10)


@pytest.mark.parametrize("name", rate_limits.tier_names())
@pytest.mark.parametrize("share", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("refresh", [False, True])
def test_a_deploy_runs_as_many_operations_as_its_slowest_bucket_serves_in_the_wait_allowed(
    name: str, share: float, refresh: bool
) -> None:
    tier = rate_limits.tier(name)
    parallel = rate_limits.deploy_parallelism(tier, share, refresh=refresh)
    # Operations served a second: every operation sends its create and its read-back through
    # the global bucket; an endpoint bucket counts one of them: a write, or (refreshing) a read.
    waits_in = [b for b in tier.endpoints if refresh or b.methods - {"GET"}]
    slowest = share * min([tier.management.per_second / 2, *(b.per_second for b in waits_in)])
    assert parallel >= 8, "never fewer than the engine's default on 2 vCPU"
    assert (
        parallel / slowest <= rate_limits.step_wait_max_s() < rate_limits.operation_timeout_s()
    ), "the last operation in flight starts within the time the paced plugin gives it"
    assert (parallel + 1) / slowest > rate_limits.step_wait_max_s() or parallel == 8


def test_enterprise_at_half_runs_13500_operations_at_once_or_9000_refreshing() -> None:
    enterprise = rate_limits.tier("enterprise-production")
    # The plugin gives an operation 4 hours; it waits at most 3 of them in the pacer.
    assert rate_limits.operation_timeout_s() == 4 * 3600
    # "Write Organizations" and "Write Organization Connections", 150 a minute: 75 at half,
    # for 3 hours: every organization of a 10,000-organization stack in flight at once.
    assert rate_limits.deploy_parallelism(enterprise, 0.5) == 13500
    # A refresh reads every connection: "Read Organization Connections", 100 a minute.
    assert rate_limits.deploy_parallelism(enterprise, 0.5, refresh=True) == 9000


def test_the_deploy_job_sets_the_parallelism_for_its_tier_and_share(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(rate_limits.TIER_VARIABLE, "free")
    monkeypatch.delenv(rate_limits.SHARE_VARIABLE, raising=False)
    rate_limits.print_deploy_parallelism()
    # The free tier's one bucket, 2 a second: 1 at half, for a create and its read-back each.
    assert capsys.readouterr().out == "PULUMI_PARALLEL=5400\n"
    monkeypatch.setenv(rate_limits.SHARE_VARIABLE, "2")
    with pytest.raises(SystemExit, match=rate_limits.SHARE_VARIABLE):
        rate_limits.print_deploy_parallelism()


def test_an_interrupt_ends_the_wait_for_a_held_pool_lock(tmp_path: Path) -> None:
    """Ctrl-C while a request waits for the pool's lock, which another deploy holds: the wait
    ends then, not after LOCK_WAIT_S (here a minute), and the process stops on the interrupt."""
    import fcntl
    import signal
    import subprocess
    import sys
    from time import monotonic

    pool = tmp_path / "pool"
    holder = os.open(pool, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    waiter = (
        "import os, signal, sys\n"
        # Python's handler, as a terminal's Ctrl-C finds it: a process started in the
        # background of a shell without job control inherits SIGINT ignored.
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from auth0_org_assignment import rate_limits\n"
        "rate_limits.LOCK_WAIT_S = 60.0\n"
        f"descriptor = os.open({str(pool)!r}, os.O_RDWR)\n"
        "print('waiting', flush=True)\n"
        "rate_limits._lock(descriptor)\n"
        "print('locked', flush=True)\n"
    )
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", waiter],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdout.readline() == "waiting\n"
        started = monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert monotonic() - started < 5
        assert "locked" not in out
        assert "KeyboardInterrupt" in err
    finally:
        os.close(holder)
