"""The integration harness: real processes on loopback.

A GudokStack is one complete deployment in a temp directory: a database
(fresh SQLite file or fresh PostgreSQL database), `gudok serve` on a unix
socket, and a private nginx (rendered from nginx/dev.conf.template) on free
ports, talking to a Toss sandbox. Tests reach it over HTTPS through nginx.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
PG_BIN = Path(os.environ.get("GUDOK_PG_BIN", "/usr/lib/postgresql/15/bin"))
ALL_DATABASES = ("sqlite", "postgres")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# Variables of the outer environment that must never leak into a stack.
OWN_VARIABLES = re.compile(r"^(GUDOK_|TOSS_|DATABASE_URL$)")


def enabled_databases() -> list[str]:
    """GUDOK_TEST_DATABASES=sqlite limits a local run to SQLite (default: both)."""
    chosen = os.environ.get("GUDOK_TEST_DATABASES", ",".join(ALL_DATABASES))
    return [db for db in ALL_DATABASES if db in chosen.split(",")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def socket_accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(path))
            return True
        except OSError:
            return False


def make_temp_dir(prefix: str) -> Path:
    # Short paths: a unix socket path must fit in 108 bytes.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"({path.name} missing)"


def save_artifacts(source: Path, name: str) -> Path:
    """Copies a run's directory (logs, config, database) to test-artifacts/NAME."""
    target = ARTIFACTS / name
    n = 1
    while target.exists():
        n += 1
        target = ARTIFACTS / f"{name}-{n}"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.sock", "nginx"), dirs_exist_ok=False,
                    ignore_dangling_symlinks=True)
    return target


def stop_process(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
    """Signals and waits; kills after `timeout`. Returns the exit code (None if never started)."""
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


# ---------------------------------------------------------------- PostgreSQL


class PostgresCluster:
    """A throwaway PostgreSQL 15 cluster, started on first use.

    As root the server must run as `postgres`, so the cluster lives in a
    /tmp directory owned by that user. Authentication is `trust` on loopback
    and on the private socket directory.
    """

    def __init__(self, durable: bool = False):
        # Tests trade durability for speed; benchmarks measure what production runs (fsync, synchronous commit).
        self.durable = durable
        self.dir: Path | None = None
        self.port: int | None = None
        self.host = "127.0.0.1"
        self._databases = 0

    @property
    def started(self) -> bool:
        return self.dir is not None

    @property
    def socket_dir(self) -> Path:
        return self.dir / "socket"

    @property
    def log_path(self) -> Path:
        return self.dir / "postgres.log"

    def _as_owner(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    def start(self) -> None:
        if self.started:
            return
        self.dir = make_temp_dir("gudok-pg-")
        (self.dir / "socket").mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.dir / "socket", "postgres", "postgres")
        self.port = free_port()
        data = self.dir / "data"
        subprocess.run(self._as_owner(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                      "-E", "UTF8", "--locale=C", "--no-sync"),
                       check=True, capture_output=True, text=True)
        durability = ("-c fsync=on -c synchronous_commit=on -c full_page_writes=on" if self.durable
                      else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        options = (f"-c listen_addresses={self.host} -p {self.port} -k {self.socket_dir} "
                   f"{durability} -c max_connections=300")
        result = subprocess.run(self._as_owner(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(self.log_path),
                                               "-o", options, "-w", "-t", "60", "start"),
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{tail(self.log_path)}")

    def stop(self, keep_logs_as: str | None = None) -> None:
        if not self.started:
            return
        subprocess.run(self._as_owner(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                                      "-w", "stop"), capture_output=True)
        if keep_logs_as and self.log_path.exists():
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(self.log_path, ARTIFACTS / keep_logs_as)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def url(self, database: str) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{database}"

    def socket_url(self, database: str) -> str:
        return f"postgresql:///{database}?host={self.socket_dir}&user=postgres"

    def createdb(self, name: str | None = None) -> str:
        """Creates an empty database and returns its TCP URL."""
        self.start()
        self._databases += 1
        name = name or f"gudok_{self._databases}_{secrets.token_hex(3)}"
        subprocess.run([str(PG_BIN / "createdb"), "-h", self.host, "-p", str(self.port), "-U", "postgres", name],
                       check=True, capture_output=True, text=True)
        return self.url(name)

    def psql(self, database: str, sql: str) -> list[list[str | None]]:
        """Runs SQL, returns rows as lists of strings (None for NULL)."""
        result = subprocess.run([str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-t",
                                 "-P", "null=\\N", "-h", self.host, "-p", str(self.port), "-U", "postgres",
                                 "-d", database, "-c", sql],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return [[None if v == "\\N" else v for v in row] for row in csv.reader(io.StringIO(result.stdout))]


# ---------------------------------------------------------------- Toss sandbox


class Sandbox:
    """The offline Toss simulator (toss-sandbox --listen 127.0.0.1:PORT)."""

    def __init__(self, command: list[str], args: list[str] = ()):
        self.command = command
        self.args = list(args)
        self.dir = make_temp_dir("gudok-sandbox-")
        self.process: subprocess.Popen | None = None
        self.url = ""

    @property
    def log_path(self) -> Path:
        return self.dir / "toss-sandbox.log"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def js_sdk_url(self) -> str:
        return f"{self.url}/v2/standard"

    def env(self) -> dict[str, str]:
        """The gudok variables pointing at this sandbox (keys: gudok's sandbox defaults)."""
        return {"TOSS_BASE_URL": self.base_url, "TOSS_JS_SDK_URL": self.js_sdk_url}

    def start(self, timeout: float = 30) -> "Sandbox":
        port = free_port()
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen([*self.command, "--listen", f"127.0.0.1:{port}", *self.args],
                                        cwd=self.dir, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"listening on (http://\S+)", self.log_text())
            if match:
                self.url = match.group(1).rstrip("/")
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"toss-sandbox did not start ({' '.join(self.command)}):\n{tail(self.log_path)}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, keep_logs_as: str | None = None) -> None:
        stop_process(self.process)
        if keep_logs_as and self.log_path.exists():
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(self.log_path, ARTIFACTS / keep_logs_as)
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- HTTP client


class GudokClient(requests.Session):
    """A requests.Session bound to a stack's HTTPS origin.

    Paths starting with "/" are joined to the base URL. Unsafe methods carry
    the CSRF token like the seed's JS client does (header X-CSRFToken = cookie
    csrftoken, fetched from /api/auth/csrf when the session has none); pass
    csrf=False to send a request without it. Default timeout 30 s.
    """

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url
        self.verify = False

    def request(self, method, url, *args, csrf: bool = True, **kwargs):
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 30)
        # Per request: REQUESTS_CA_BUNDLE in the environment would override a session-level verify=False.
        kwargs.setdefault("verify", False)
        if csrf and method.upper() not in SAFE_METHODS:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)

    def csrf_token(self) -> str:
        token = self.cookies.get("csrftoken")
        if token is None:
            response = self.get("/api/auth/csrf")
            response.raise_for_status()
            token = self.cookies.get("csrftoken") or response.json()["csrf_token"]
        return token

    def signup(self, username: str, password: str, email: str | None = None) -> requests.Response:
        return self.post("/api/auth/signup",
                         json={"username": username, "email": email or f"{username}@example.com", "password": password})

    def login(self, username: str, password: str) -> requests.Response:
        return self.post("/api/auth/login", json={"username": username, "password": password})

    def logout(self) -> requests.Response:
        return self.post("/api/auth/logout")


# ---------------------------------------------------------------- the stack


class GudokStack:
    """One deployment: database + `gudok serve` + nginx, in its own temp dir.

    Use through the fixtures (`stack`, `make_stack`); `start()`/`stop()` are
    for fixtures. Everything a test needs:
      stack.client            GudokClient for this stack (HTTPS through nginx)
      stack.new_client()      another, with its own cookies (a second user)
      stack.url(path)         https://127.0.0.1:PORT/path;  stack.http_url = plain-HTTP origin
      stack.run(*args, input=None, env=None, timeout=60)  gudok subcommand, same env/cwd
      stack.create_user(name, password, email=None, staff=False)
      stack.login(name, password) -> a new signed-in GudokClient
      stack.log_text(), stack.log_records()   the responder's stderr (JSON lines)
      stack.nginx_error_log(), stack.access_log()
      stack.query(sql)        rows from the stack's database (read-only inspection)
      stack.responder         the `gudok serve` Popen; stop_responder(), start_responder()
      stack.env, stack.dir, stack.db, stack.database_url, stack.socket_path, stack.sandbox
    """

    def __init__(self, *, gudok_bin: Path, db: str, database_url: str, sandbox: Sandbox | None,
                 env: dict[str, str | None] | None = None, threads: int = 8, name: str = "stack",
                 postgres: PostgresCluster | None = None):
        self.gudok_bin = Path(gudok_bin)
        self.db = db
        self.name = name
        self.threads = threads
        self.sandbox = sandbox
        self.postgres = postgres
        self.database_url = database_url
        self.dir = make_temp_dir(f"gudok-{db}-")
        self.log_dir = self.dir / "log"
        self.log_dir.mkdir()
        self.socket_path = self.dir / "run" / "gudok.sock"
        self.https_port = self.http_port = 0
        self.base_url = self.http_url = ""
        self.responder: subprocess.Popen | None = None
        self._responder_stopped = False
        self._stopped = False
        self.nginx: subprocess.Popen | None = None
        self.failed = False
        self.unexpected_exit: str | None = None
        self._extra_env = env or {}
        self.env: dict[str, str] = {}
        self.client: GudokClient | None = None

    # -- lifecycle

    def start(self, attempts: int = 3) -> "GudokStack":
        try:
            self._choose_ports()
            self.run("migrate", check=True)
            self.run("seed", check=True)
            self.start_responder()
            for attempt in range(attempts):
                try:
                    self._start_nginx()
                    break
                except PortTaken:
                    if attempt == attempts - 1:
                        raise
                    self._choose_ports()
            self.wait_healthy()
        except BaseException:
            self.failed = True
            self.stop(check=False)
            raise
        return self

    def _choose_ports(self) -> None:
        self.https_port, self.http_port = free_port(), free_port()
        self.base_url = f"https://127.0.0.1:{self.https_port}"
        self.http_url = f"http://127.0.0.1:{self.http_port}"
        self.env = self._environment()
        self.client = GudokClient(self.base_url)

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not OWN_VARIABLES.match(k)}
        env.update({
            "DATABASE_URL": self.database_url,
            "GUDOK_ENV": "test",
            "GUDOK_SECRET_KEY": secrets.token_urlsafe(48),
            "GUDOK_PUBLIC_URL": self.base_url,
            "GUDOK_TIMEZONE": "Asia/Seoul",
            "GUDOK_TOSS_TIMEOUT_SCALE": "0.1",
            "GUDOK_LOG_LEVEL": "debug",
        })
        if self.sandbox:
            env.update(self.sandbox.env())
        for key, value in self._extra_env.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        return env

    def start_responder(self, *extra_args: str, wait: bool = True) -> subprocess.Popen:
        """Starts `gudok serve` on the stack's socket (stderr appended to log/gudok.log)."""
        self.socket_path.parent.mkdir(exist_ok=True)
        self._responder_stopped = False
        with open(self.log_dir / "gudok.log", "ab") as log:
            self.responder = subprocess.Popen(
                [str(self.gudok_bin), "serve", "--fastcgi", f"unix:{self.socket_path}", "--threads",
                 str(self.threads), *extra_args],
                cwd=self.dir, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if wait:
            deadline = time.monotonic() + 30
            while not socket_accepts(self.socket_path):
                if self.responder.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gudok serve did not open {self.socket_path} "
                                       f"(exit {self.responder.poll()}):\n{tail(self.log_dir / 'gudok.log')}")
                time.sleep(0.05)
        return self.responder

    def stop_responder(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        """Signals the responder (on purpose: the stack will not complain) and returns its exit code."""
        self._note_unexpected_exit()
        self._responder_stopped = True
        return stop_process(self.responder, sig, timeout)

    def _note_unexpected_exit(self) -> None:
        if (self.responder is not None and not self._responder_stopped and self.responder.poll() is not None
                and self.unexpected_exit is None):
            self.unexpected_exit = f"gudok serve exited by itself with {self.responder.returncode}"

    def _start_nginx(self) -> None:
        subprocess.run([str(REPO / "scripts" / "render-nginx.sh"), "--var", str(self.dir),
                        "--https-port", str(self.https_port), "--http-port", str(self.http_port),
                        "--fastcgi", f"unix:{self.socket_path}", "--daemon", "off"],
                       check=True, capture_output=True, text=True)
        error_log = self.log_dir / "nginx-error.log"
        self.nginx = subprocess.Popen(["nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                                       "-e", str(error_log)],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=open(self.log_dir / "nginx.stderr", "wb"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.nginx.poll() is not None:
                text = tail(error_log) + tail(self.log_dir / "nginx.stderr")
                if "Address already in use" in text:
                    raise PortTaken(text)
                raise RuntimeError(f"nginx exited with {self.nginx.returncode}:\n{text}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx is not listening on {self.https_port}:\n{tail(error_log)}")

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.responder.poll() is not None:
                break
            try:
                response = requests.get(self.url("/healthz"), verify=False, timeout=2)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as error:
                last = str(error)
            time.sleep(0.1)
        raise RuntimeError(f"{self.url('/healthz')} not healthy ({last}); responder exit {self.responder.poll()}:\n"
                           f"{tail(self.log_dir / 'gudok.log')}\n{tail(self.log_dir / 'nginx-error.log')}")

    def stop(self, check: bool = True) -> None:
        """Stops nginx and the responder; keeps the directory under test-artifacts/ if anything failed.

        With check=True, raises if the responder had died before it was asked
        to stop, or did not exit 0 on SIGTERM.
        """
        if self._stopped:
            return
        self._stopped = True
        self._note_unexpected_exit()
        if self.responder is not None and self.responder.poll() is None:
            code = self.stop_responder()
            if code != 0 and self.unexpected_exit is None:
                self.unexpected_exit = f"gudok serve exited with {code} on SIGTERM"
        stop_process(self.nginx)
        problem = self.unexpected_exit if check else None
        if self.failed or problem:
            saved = save_artifacts(self.dir, self.name)
            problem = problem and f"{problem}; logs in {saved}"
        shutil.rmtree(self.dir, ignore_errors=True)
        if problem:
            raise AssertionError(problem)

    # -- helpers for tests

    def url(self, path: str) -> str:
        return self.base_url + path

    def new_client(self) -> GudokClient:
        return GudokClient(self.base_url)

    def run(self, *args: str, input: str | None = None, env: dict[str, str | None] | None = None,
            timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess:
        """Runs `gudok ARGS` with the stack's environment and working directory."""
        run_env = dict(self.env or self._environment())
        for key, value in (env or {}).items():
            if value is None:
                run_env.pop(key, None)
            else:
                run_env[key] = str(value)
        result = subprocess.run([str(self.gudok_bin), *args], cwd=self.dir, env=run_env, input=input,
                                capture_output=True, text=True, timeout=timeout)
        with open(self.log_dir / "commands.log", "a") as log:
            log.write(f"$ gudok {' '.join(args)}\nexit {result.returncode}\n"
                      f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}\n")
        if check and result.returncode != 0:
            raise RuntimeError(f"gudok {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def create_user(self, username: str, password: str, email: str | None = None,
                    staff: bool = False) -> subprocess.CompletedProcess:
        args = ["user", "create", username, "--email", email or f"{username}@example.com"]
        if staff:
            args.append("--staff")
        return self.run(*args, "--password-stdin", input=password + "\n", check=True)

    def login(self, username: str, password: str) -> GudokClient:
        client = self.new_client()
        response = client.login(username, password)
        assert response.status_code == 200, f"login as {username}: {response.status_code} {response.text}"
        return client

    def log_text(self) -> str:
        """Everything the responder wrote to stderr so far."""
        path = self.log_dir / "gudok.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_records(self) -> list[dict]:
        """The responder's JSON log lines, parsed (other lines skipped)."""
        records = []
        for line in self.log_text().splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                records.append(value)
        return records

    def nginx_error_log(self) -> str:
        return tail(self.log_dir / "nginx-error.log", 10_000)

    def access_log(self) -> str:
        return tail(self.log_dir / "nginx-access.log", 10_000)

    def query(self, sql: str) -> list[list]:
        """Rows of a read query against the stack's database (PostgreSQL values come back as strings)."""
        if self.db == "sqlite":
            with sqlite3.connect(self.database_url.removeprefix("sqlite://")) as connection:
                return [list(row) for row in connection.execute(sql).fetchall()]
        return self.postgres.psql(self.database_url.rsplit("/", 1)[1], sql)


class PortTaken(RuntimeError):
    pass
