"""Fixtures for the integration tests (the harness itself is gudok_harness.py).

Fixtures
  gudok_bin      Path of the gudok executable (.build/debug/gudok, or $GUDOK_BIN); built by `make`.
  sandbox_bin    command list for the Toss sandbox: the `toss-sandbox` executable built next to gudok (or $TOSS_SANDBOX_BIN).
  postgres       session PostgresCluster, started on first createdb(); .createdb() -> URL, .psql(db, sql).
  sandbox        session Sandbox: .url, .base_url, .js_sdk_url, .env(), .log_text().
  start_sandbox  factory: start_sandbox("--latency-ms", "200") -> a dedicated Sandbox, stopped after the test.
  stack          module-scoped running GudokStack, shared by the module's tests. SQLite only, unless the
                 test or module is marked @pytest.mark.both_databases (or databases("postgres")): then the
                 tests run once per database. A module may define a module-scoped `stack_env` fixture
                 returning extra environment for its stack (e.g. {"GUDOK_TEST_CLOCK": "1"}).
  make_stack     factory for a private stack, stopped at the end of the test:
                 make_stack(db="sqlite", env={...}, threads=8, sandbox=None | "own" | Sandbox,
                            sandbox_args=(...), start=True)
  browser        session headless Chromium (selenium WebDriver), accepting the self-signed certificate.

Set GUDOK_TEST_DATABASES=sqlite to skip PostgreSQL in a quick local run.
Logs of stacks that were running when a test failed are kept under test-artifacts/ (make test empties it first).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gudok_harness import ALL_DATABASES, REPO, GudokStack, PostgresCluster, Sandbox, enabled_databases

_live_stacks: set[GudokStack] = set()


def pytest_generate_tests(metafunc):
    if "stack" not in metafunc.fixturenames:
        return
    chosen = ["sqlite"]
    if metafunc.definition.get_closest_marker("both_databases"):
        chosen = list(ALL_DATABASES)
    marker = metafunc.definition.get_closest_marker("databases")
    if marker:
        chosen = list(marker.args)
    metafunc.parametrize("stack", chosen, indirect=True, scope="module")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for stack in _live_stacks:
            stack.failed = True
    return report


# ---------------------------------------------------------------- binaries


@pytest.fixture(scope="session")
def gudok_bin() -> Path:
    path = Path(os.environ.get("GUDOK_BIN", REPO / ".build" / "debug" / "gudok"))
    if not path.is_file():
        pytest.fail(f"{path} does not exist: run `swift build` (or `make build`) first, or set GUDOK_BIN")
    return path


@pytest.fixture(scope="session")
def sandbox_bin(gudok_bin) -> list[str]:
    override = os.environ.get("TOSS_SANDBOX_BIN")
    if override:
        return [override]
    sibling = gudok_bin.parent / "toss-sandbox"
    if not sibling.is_file():
        pytest.fail(f"{sibling} does not exist: run `swift build` (it builds gudok and toss-sandbox)")
    return [str(sibling)]


# ---------------------------------------------------------------- services


@pytest.fixture(scope="session")
def postgres(request):
    cluster = PostgresCluster()
    yield cluster
    cluster.stop(keep_logs_as="postgres.log" if request.session.testsfailed else None)


@pytest.fixture(scope="session")
def sandbox(request, sandbox_bin):
    started = Sandbox(sandbox_bin).start()
    yield started
    started.stop(keep_logs_as="toss-sandbox.log" if request.session.testsfailed else None)


@pytest.fixture
def start_sandbox(request, sandbox_bin):
    started: list[Sandbox] = []

    def start(*args: str) -> Sandbox:
        box = Sandbox(sandbox_bin, list(args)).start()
        started.append(box)
        return box

    yield start
    failed = request.session.testsfailed > 0
    for n, box in enumerate(started):
        box.stop(keep_logs_as=f"toss-sandbox-{request.node.name}-{n}.log" if failed else None)


# ---------------------------------------------------------------- stacks


class _StackFactory:
    def __init__(self, request, gudok_bin, sandbox_bin, postgres, sandbox):
        self.request = request
        self.sandbox = sandbox
        self.gudok_bin = gudok_bin
        self.sandbox_bin = sandbox_bin
        self.postgres = postgres
        self.stacks: list[GudokStack] = []
        self.own_sandboxes: list[Sandbox] = []

    def __call__(self, db: str = "sqlite", env: dict | None = None, threads: int = 8,
                 sandbox: Sandbox | str | None = None, sandbox_args: tuple[str, ...] = (),
                 start: bool = True, name: str | None = None) -> GudokStack:
        if db not in enabled_databases():
            pytest.skip(f"{db} disabled by GUDOK_TEST_DATABASES")
        if sandbox == "own" or sandbox_args:
            sandbox = Sandbox(self.sandbox_bin, list(sandbox_args)).start()
            self.own_sandboxes.append(sandbox)
        elif sandbox is None:
            sandbox = self.sandbox
        if db == "sqlite":
            database_url = "sqlite:///{dir}/gudok.sqlite3"
        else:
            database_url = self.postgres.createdb()
        stack = GudokStack(gudok_bin=self.gudok_bin, db=db, database_url=database_url, sandbox=sandbox,
                           env=env, threads=threads, postgres=self.postgres,
                           name=name or _artifact_name(self.request, db))
        stack.database_url = stack.database_url.format(dir=stack.dir)
        self.stacks.append(stack)
        _live_stacks.add(stack)
        if start:
            stack.start()
        return stack

    def close(self) -> None:
        problems = []
        for stack in self.stacks:
            _live_stacks.discard(stack)
            try:
                stack.stop()
            except AssertionError as error:
                problems.append(str(error))
        for box in self.own_sandboxes:
            box.stop()
        if problems:
            pytest.fail("; ".join(problems), pytrace=False)


def _artifact_name(request, db: str) -> str:
    node = request.node.nodeid.replace("/", "_").replace("::", "-")
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{node}-{db}")[:150]


@pytest.fixture(scope="module")
def stack_env() -> dict:
    """Extra environment for the module's `stack`; override in a test module."""
    return {}


@pytest.fixture(scope="module")
def stack(request, gudok_bin, sandbox_bin, postgres, sandbox, stack_env):
    factory = _StackFactory(request, gudok_bin, sandbox_bin, postgres, sandbox)
    try:
        yield factory(db=request.param, env=stack_env)
    finally:
        factory.close()


@pytest.fixture
def make_stack(request, gudok_bin, sandbox_bin, postgres, sandbox):
    factory = _StackFactory(request, gudok_bin, sandbox_bin, postgres, sandbox)
    try:
        yield factory
    finally:
        factory.close()


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--ignore-certificate-errors", "--window-size=1280,900", "--lang=ko-KR"):
        options.add_argument(argument)
    options.set_capability("acceptInsecureCerts", True)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()

