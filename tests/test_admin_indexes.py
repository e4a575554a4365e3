"""The back office's list queries use indexes (issue "Back office, refunds": "no full scans at 1M payments; show the EXPLAIN in a test").

A database is filled by SQL (5,000 users and subscriptions, 20,000 payments, 20,000 webhook events, realistic status and
method mixes, two years of dates) and analysed; then every admin list/filter/search query shape is explained with the
SAME SQL text and parameters gudok runs: `EXPLAIN QUERY PLAN` on SQLite, `PREPARE` + `EXPLAIN EXECUTE` on PostgreSQL (gudok
prepares every statement with untyped `$n` parameters; both the first, custom plan and the generic plan it may switch to
after five executions are shown). gudok does not log its SQL, so the text is rebuilt here exactly as
Sources/App/Admin/AdminListings.swift + AdminListRequest.swift build it; `test_rebuilt_sql_returns_what_the_app_returns`
checks the rebuilt queries return the same rows, in the same order, as the app's /api/admin/* answers.

Every plan is printed (pytest -s) and written to test-artifacts/explain/<db>-<shape>.txt, with a summary of which shapes
scan in test-artifacts/explain/<db>-summary.txt.

SQLite note: gudok never runs ANALYZE (nor `PRAGMA optimize`), so its SQLite databases have no sqlite_stat1; the plans are
taken both without statistics (what gudok actually gets) and after ANALYZE.
"""

from __future__ import annotations

import random
import re
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gudok_harness import ARTIFACTS, PG_BIN

pytestmark = pytest.mark.both_databases

SEOUL = ZoneInfo("Asia/Seoul")
PASSWORD = "correct horse battery"
EXPLAIN_DIR = ARTIFACTS / "explain"
N_USERS = 5_000
PAYMENTS_PER_SUBSCRIPTION = 4
N_PAYMENTS = N_USERS * PAYMENTS_PER_SUBSCRIPTION  # 20,000
N_EVENTS = 20_000
PER_PAGE = 50
EPOCH = int(datetime(2023, 1, 1, tzinfo=SEOUL).timestamp())
SPAN = 2 * 365 * 86_400


# ---------------------------------------------------------------- the SQL, as AdminListings.swift builds it

# Swift multi-line literals: the closing delimiter's indentation is stripped, lines joined by "\n", no final newline.
SUBSCRIPTION_COLUMNS = (
    "s.*, p.id AS plan_id_, p.name AS plan_name, p.plan_type AS plan_plan_type, p.price AS plan_price, p.currency AS plan_currency,\n"
    "p.billing_cycle AS plan_billing_cycle, p.features AS plan_features, p.is_active AS plan_is_active")
SUBSCRIPTION_SELECT = (
    f"SELECT {SUBSCRIPTION_COLUMNS}, u.username AS owner_username, u.email AS owner_email\n"
    "FROM subscriptions s JOIN plans p ON p.id = s.plan_id JOIN users u ON u.id = s.user_id")
PAYMENT_SELECT = (
    "SELECT pa.*, u.username AS owner_username, u.email AS owner_email, s.customer_key AS owner_customer_key, p.name AS owner_plan_name\n"
    "FROM payments pa JOIN users u ON u.id = pa.user_id JOIN subscriptions s ON s.id = pa.subscription_id JOIN plans p ON p.id = s.plan_id")
USER_SELECT = (
    "SELECT u.id, u.username, u.email, u.is_staff, u.is_active, u.created_at, u.last_login,\n"
    "(SELECT COUNT(*) FROM subscriptions sx WHERE sx.user_id = u.id) AS subscription_count,\n"
    "(SELECT sx.status FROM subscriptions sx WHERE sx.user_id = u.id ORDER BY sx.created_at DESC, sx.id DESC LIMIT 1) AS latest_status\n"
    "FROM users u")
WEBHOOK_SELECT = "SELECT w.id, w.event_type, w.transmission_id, w.payment_key, w.received_at, w.outcome, w.detail FROM webhook_events w"

PAYMENT_SEARCH = (
    "(LOWER(u.username) LIKE ? ESCAPE '!' OR LOWER(u.email) LIKE ? ESCAPE '!' OR LOWER(s.customer_key) LIKE ? ESCAPE '!'\n"
    "OR LOWER(pa.order_id) LIKE ? ESCAPE '!' OR LOWER(pa.payment_key) LIKE ? ESCAPE '!')")
SUBSCRIPTION_SEARCH = (
    "(LOWER(u.username) LIKE ? ESCAPE '!' OR LOWER(u.email) LIKE ? ESCAPE '!' OR LOWER(s.customer_key) LIKE ? ESCAPE '!'\n"
    "OR EXISTS (SELECT 1 FROM payments px WHERE px.subscription_id = s.id AND (px.order_id = ? OR px.payment_key = ?)))")
USER_SEARCH = (
    "(LOWER(u.username) LIKE ? ESCAPE '!' OR LOWER(u.email) LIKE ? ESCAPE '!'\n"
    "OR EXISTS (SELECT 1 FROM subscriptions sx WHERE sx.user_id = u.id AND sx.customer_key = ?)\n"
    "OR EXISTS (SELECT 1 FROM payments px WHERE px.user_id = u.id AND (px.order_id = ? OR px.payment_key = ?)))")
# AdminListings.exactPaymentSearch: a payments search first looks the text up as an exact identifier.
EXACT_PAYMENT_SEARCH = (
    "SELECT id FROM payments WHERE order_id = ? UNION SELECT id FROM payments WHERE payment_key = ?\n"
    "UNION SELECT px.id FROM payments px JOIN subscriptions sx ON sx.id = px.subscription_id WHERE sx.customer_key = ?")
WEBHOOK_SEARCH = "(LOWER(w.transmission_id) LIKE ? ESCAPE '!' OR LOWER(w.payment_key) LIKE ? ESCAPE '!')"

# AdminList.sortColumns: key -> (column, nullable); tie-breakers; default sorts.
SORT_COLUMNS = {
    "subscriptions": {"created_at": ("s.created_at", False), "updated_at": ("s.updated_at", False), "start_date": ("s.start_date", True),
                      "next_billing_date": ("s.next_billing_date", True), "status": ("s.status", False), "amount": ("p.price", False),
                      "price": ("p.price", False), "username": ("u.username_key", False)},
    "payments": {"created_at": ("pa.created_at", False), "paid_at": ("pa.paid_at", True), "amount": ("pa.amount", False),
                 "refunded_amount": ("pa.refunded_amount", False), "status": ("pa.status", False)},
    "users": {"created_at": ("u.created_at", False), "username": ("u.username_key", False), "email": ("u.email", False),
              "last_login": ("u.last_login", True)},
    "webhook-events": {"received_at": ("w.received_at", False), "created_at": ("w.received_at", False), "event_type": ("w.event_type", False),
                       "outcome": ("w.outcome", False)},
}
TIE_BREAKER = {"subscriptions": "s.id", "payments": "pa.id", "users": "u.id", "webhook-events": "w.id"}
DEFAULT_SORT = {"subscriptions": "-created_at", "payments": "-created_at", "users": "-created_at", "webhook-events": "-received_at"}
SELECT = {"subscriptions": SUBSCRIPTION_SELECT, "payments": PAYMENT_SELECT, "users": USER_SELECT, "webhook-events": WEBHOOK_SELECT}


def order_by(list_name: str, sort: str) -> str:
    """AdminSort.orderBy(for:)."""
    descending = sort.startswith("-")
    column, nullable = SORT_COLUMNS[list_name][sort.lstrip("-")]
    direction = "DESC" if descending else "ASC"
    parts = []
    if nullable:
        parts.append(f"CASE WHEN {column} IS NULL THEN 1 ELSE 0 END ASC")
    parts += [f"{column} {direction}", f"{TIE_BREAKER[list_name]} {direction}"]
    return " ORDER BY " + ", ".join(parts)


def contains_pattern(text: str) -> str:
    """SQLConditions.containsPattern."""
    escaped = ""
    for character in text.lower():
        if character in "!%_":
            escaped += "!"
        escaped += character
    return "%" + escaped + "%"


def day_start(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=SEOUL).timestamp())


@dataclass
class Request:
    """The parameters of one list request, as AdminListRequest holds them after parsing."""
    list: str
    q: str | None = None
    status: str | None = None
    plan_type: str | None = None
    cycle: str | None = None
    method: str | None = None
    event_type: str | None = None
    staff: bool | None = None
    from_day: str | None = None
    to_day: str | None = None
    sort: str | None = None
    page: int = 1

    def api_params(self) -> dict:
        params = {"q": self.q, "status": self.status, "plan_type": self.plan_type, "cycle": self.cycle, "method": self.method,
                  "type": self.event_type, "staff": None if self.staff is None else int(self.staff), "from": self.from_day,
                  "to": self.to_day, "sort": self.sort, "page": self.page if self.page > 1 else None}
        return {key: value for key, value in params.items() if value is not None}


def rebuild(stack, request: Request) -> tuple[str, list]:
    """build(), with the exact-identifier lookup a payments search makes first run against the stack's database."""
    exact = None
    if request.list == "payments" and request.q:
        exact = run_sql(stack, EXACT_PAYMENT_SEARCH, [request.q] * 3)[:1000]
    return build(request, exact)


def build(request: Request, exact_ids: list[str] | None = None) -> tuple[str, list]:
    """AdminListings.<list>(request): the SQL text and its parameters, in gudok's order."""
    clauses: list[str] = []
    params: list = []

    def add(clause, *values):
        clauses.append(clause)
        params.extend(values)

    def created_range(column):
        if request.from_day:
            add(f"{column} >= ?", day_start(request.from_day))
        if request.to_day:
            add(f"{column} < ?", day_start(request.to_day) + 86_400)  # to=DAY is exclusive of the next day's midnight

    name = request.list
    if name == "subscriptions":
        if request.status:
            add("s.status = ?", request.status)
        if request.plan_type:
            add("p.plan_type = ?", request.plan_type)
        if request.cycle:
            add("p.billing_cycle = ?", request.cycle)
        if request.method:
            add("EXISTS (SELECT 1 FROM payments px WHERE px.subscription_id = s.id AND px.payment_method = ?)", request.method)
        created_range("s.created_at")
        if request.q:
            pattern = contains_pattern(request.q)
            add(SUBSCRIPTION_SEARCH, pattern, pattern, pattern, request.q, request.q)
    elif name == "payments":
        if request.status:
            add("pa.status = ?", request.status)
        if request.method:
            add("pa.payment_method = ?", request.method)
        if request.plan_type:
            add("p.plan_type = ?", request.plan_type)
        if request.cycle:
            add("p.billing_cycle = ?", request.cycle)
        created_range("pa.created_at")
        if request.q and exact_ids:
            add("pa.id IN (" + ", ".join("?" * len(exact_ids)) + ")", *exact_ids)
        elif request.q:
            pattern = contains_pattern(request.q)
            add(PAYMENT_SEARCH, pattern, pattern, pattern, pattern, pattern)
    elif name == "users":
        if request.staff is not None:
            add("u.is_staff = ?", int(request.staff))
        if request.status:
            add("EXISTS (SELECT 1 FROM subscriptions sx WHERE sx.user_id = u.id AND sx.status = ?)", request.status)
        if request.plan_type or request.cycle:
            clause = "EXISTS (SELECT 1 FROM subscriptions sx JOIN plans px ON px.id = sx.plan_id WHERE sx.user_id = u.id"
            values = []
            if request.plan_type:
                clause += " AND px.plan_type = ?"
                values.append(request.plan_type)
            if request.cycle:
                clause += " AND px.billing_cycle = ?"
                values.append(request.cycle)
            add(clause + ")", *values)
        if request.method:
            add("EXISTS (SELECT 1 FROM payments px WHERE px.user_id = u.id AND px.payment_method = ?)", request.method)
        created_range("u.created_at")
        if request.q:
            pattern = contains_pattern(request.q)
            add(USER_SEARCH, pattern, pattern, request.q, request.q, request.q)
    elif name == "webhook-events":
        if request.event_type:
            add("w.event_type = ?", request.event_type)
        if request.status:
            add("w.outcome = ?", request.status)
        created_range("w.received_at")
        if request.q:
            pattern = contains_pattern(request.q)
            add(WEBHOOK_SEARCH, pattern, pattern)
    else:
        raise ValueError(name)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    sql = SELECT[name] + where + order_by(name, request.sort or DEFAULT_SORT[name]) + " LIMIT ? OFFSET ?"
    return sql, params + [PER_PAGE + 1, (request.page - 1) * PER_PAGE]


# ---------------------------------------------------------------- the data


@dataclass
class Filled:
    plans: dict[str, str]
    sample: dict[str, str] = field(default_factory=dict)


def sqlite_path(stack) -> str:
    return "/" + stack.database_url.removeprefix("sqlite://").lstrip("/")


def _bulk_insert(stack, table: str, columns: list[str], rows: list[tuple]) -> None:
    if stack.db == "sqlite":
        with sqlite3.connect(sqlite_path(stack)) as connection:
            connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})", rows)
        return
    import csv
    import io
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["\\N" if value is None else value for value in row])
    script = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N');\n{buffer.getvalue()}\\.\n"
    subprocess.run([str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", stack.database_url, "-f", "-"],
                   input=script, text=True, check=True, capture_output=True)


def _pick(rng: random.Random, weighted: list[tuple[object, int]]):
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


@pytest.fixture(scope="module")
def filled(stack) -> Filled:
    rng = random.Random(20250315)
    plans = {plan_type: plan_id for plan_id, plan_type in stack.query("SELECT id, plan_type FROM plans")}
    plan_ids = list(plans.values())
    users, subscriptions, payments, events = [], [], [], []
    for n in range(N_USERS):
        user_id, subscription_id = str(uuid.uuid4()), str(uuid.uuid4())
        created = EPOCH + rng.randrange(SPAN)
        name = f"member{n:05d}"
        users.append((user_id, name, name, f"{name}@example.com", "!", int(n % 500 == 0), 1, created, None))
        status = _pick(rng, [("ACTIVE", 60), ("CANCELLED", 20), ("EXPIRED", 10), ("PAST_DUE", 5), ("PENDING", 5)])
        customer_key = "cus_" + uuid.uuid4().hex
        subscriptions.append((subscription_id, user_id, rng.choice(plan_ids), status, customer_key, created, created, created,
                              created + 30 * 86_400 if status in ("ACTIVE", "PAST_DUE") else None, created, 0))
        for period in range(PAYMENTS_PER_SUBSCRIPTION):
            at = created + period * 30 * 86_400 + rng.randrange(3_600)
            payment_status = _pick(rng, [("COMPLETED", 85), ("FAILED", 8), ("PARTIAL_CANCELLED", 3), ("CANCELLED", 2), ("PENDING", 2)])
            paid = payment_status in ("COMPLETED", "PARTIAL_CANCELLED", "CANCELLED")
            method = _pick(rng, [("카드", 70), ("간편결제", 20), ("계좌이체", 10)]) if paid else None
            refunded = {"PARTIAL_CANCELLED": 3000, "CANCELLED": 9900}.get(payment_status, 0)
            payments.append((str(uuid.uuid4()), subscription_id, user_id, "SUBSCRIPTION", 9900, payment_status,
                             f"sub-{subscription_id.replace('-', '')}-p{period}-a1", "구독", "tsbx" + uuid.uuid4().hex if paid else None,
                             period, 1, method, at if paid else None, refunded, at, at))
    for n in range(N_EVENTS):
        at = EPOCH + rng.randrange(SPAN)
        events.append((str(uuid.uuid4()), f"tx_{uuid.uuid4().hex}", _pick(rng, [("PAYMENT_STATUS_CHANGED", 80), ("BILLING_DELETED", 10),
                                                                               ("DEPOSIT_CALLBACK", 10)]),
                       rng.choice(payments)[8], at, "{}", _pick(rng, [("APPLIED", 70), ("IGNORED", 20), ("UNKNOWN_PAYMENT", 10)]), None))
    _bulk_insert(stack, "users", ["id", "username", "username_key", "email", "password_hash", "is_staff", "is_active", "created_at",
                                  "last_login"], users)
    _bulk_insert(stack, "subscriptions", ["id", "user_id", "plan_id", "status", "customer_key", "anchor_at", "start_date", "created_at",
                                          "next_billing_date", "updated_at", "current_period"],
                 subscriptions)
    _bulk_insert(stack, "payments", ["id", "subscription_id", "user_id", "payment_type", "amount", "status", "order_id", "order_name",
                                     "payment_key", "period_index", "attempt", "payment_method", "paid_at", "refunded_amount", "created_at",
                                     "updated_at"], payments)
    _bulk_insert(stack, "webhook_events", ["id", "transmission_id", "event_type", "payment_key", "received_at", "payload", "outcome",
                                           "detail"], events)
    [[count]] = stack.query("SELECT COUNT(*) FROM payments")
    assert int(count) >= N_PAYMENTS, count
    target = rng.choice([p for p in payments if p[8]])
    owner = next(u for u in users if u[0] == target[2])
    subscription = next(s for s in subscriptions if s[0] == target[1])
    return Filled(plans=plans, sample={"order_id": target[6], "payment_key": target[8], "customer_key": subscription[4],
                                       "username": owner[1], "email": owner[3], "user_id": owner[0], "payment_id": target[0]})


# ---------------------------------------------------------------- explaining


@dataclass
class Plan:
    label: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def sqlite_plan(path: str, sql: str, params: list, label: str, analysed: bool) -> Plan:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True) if analysed else sqlite3.connect(":memory:")
    try:
        if not analysed:
            # The same schema without statistics: gudok never runs ANALYZE.
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            for [statement] in source.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"):
                connection.execute(statement)
            source.close()
        rows = connection.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    finally:
        connection.close()
    depth = {0: -1}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return Plan(label, lines)


def pg_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def numbered(sql: str) -> str:
    """PostgresConnection.numberPlaceholders: ? -> $1, $2, ..."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


def pg_run(stack, script: str) -> str:
    result = subprocess.run([str(PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", stack.database_url],
                            input=script, text=True, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}\n{script[:2000]}")
    return result.stdout


def pg_plans(stack, sql: str, params: list) -> list[Plan]:
    """PREPARE with untyped parameters (like PQprepare), then the first (custom) plan and the generic plan."""
    arguments = ", ".join(pg_literal(value) for value in params)
    execute = f"EXECUTE gudok_q({arguments})" if params else "EXECUTE gudok_q"
    marker = "----8<----"
    script = (f"PREPARE gudok_q AS {numbered(sql)};\n"
              f"EXPLAIN {execute};\n\\echo {marker}\n"
              f"SET plan_cache_mode = force_generic_plan;\nEXPLAIN {execute};\n")
    custom, generic = pg_run(stack, script).split(marker + "\n")
    return [Plan("custom plan (first executions)", custom.rstrip("\n").splitlines()),
            Plan("generic plan (plan_cache_mode=force_generic_plan)", generic.rstrip("\n").splitlines())]


def explain(stack, sql: str, params: list) -> list[Plan]:
    if stack.db == "sqlite":
        path = sqlite_path(stack)
        return [sqlite_plan(path, sql, params, "without statistics (as gudok runs it)", analysed=False),
                sqlite_plan(path, sql, params, "after ANALYZE", analysed=True)]
    return pg_plans(stack, sql, params)


@pytest.fixture(scope="module")
def analysed(stack, filled) -> Filled:
    if stack.db == "sqlite":
        with sqlite3.connect(sqlite_path(stack)) as connection:
            connection.execute("ANALYZE")
    else:
        pg_run(stack, "ANALYZE;")
    return filled


# ---------------------------------------------------------------- reading plans


@dataclass
class Access:
    """How one table is read by one plan node."""
    table: str
    alias: str
    kind: str  # "search" (index seek on a condition), "walk" (whole index in order, stopped by LIMIT), "scan" (whole table)
    line: str


def aliases(sql: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, alias in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)\s+(\w+)", sql):
        found.setdefault(alias, set()).add(table)
    return found


def read_plan(db: str, sql: str, plan: Plan) -> tuple[list[Access], bool]:
    """The table accesses of a plan, and whether the main query sorts all its rows (so no LIMIT can stop a walk early)."""
    accesses: list[Access] = []
    if db == "sqlite":
        names = aliases(sql)
        full_sort = any(line == "USE TEMP B-TREE FOR ORDER BY" for line in plan.lines)  # depth 0: the main query's ORDER BY
        for line in plan.lines:
            match = re.match(r"\s*(SCAN|SEARCH) (\w+)( USING (?:COVERING )?INDEX \w+)?", line)
            if not match:
                continue
            verb, alias, index = match.groups()
            kind = "search" if verb == "SEARCH" else ("walk" if index else "scan")
            for table in sorted(names.get(alias, {alias})):
                accesses.append(Access(table, alias, kind, line.strip()))
        return accesses, full_sort
    main_sort = next((line for line in plan.lines if re.search(r"\b(Incremental Sort|Sort)\s+\(", line)), "")
    full_sort = bool(main_sort) and "Incremental Sort" not in main_sort
    for n, line in enumerate(plan.lines):
        indent = len(line) - len(line.lstrip())
        if match := re.search(r"Seq Scan on (\w+)(?: (\w+))?", line):
            accesses.append(Access(match.group(1), match.group(2) or match.group(1), "scan", line.strip()))
        elif match := re.search(r"Bitmap Heap Scan on (\w+)(?: (\w+))?", line):
            accesses.append(Access(match.group(1), match.group(2) or match.group(1), "search", line.strip()))
        elif match := re.search(r"Index (?:Only )?Scan(?: Backward)? using \w+ on (\w+)(?: (\w+))?", line):
            details = []
            for following in plan.lines[n + 1:]:
                if len(following) - len(following.lstrip()) <= indent or following.lstrip().startswith("->"):
                    break
                details.append(following.strip())
            kind = "search" if any(d.startswith("Index Cond:") for d in details) else "walk"
            accesses.append(Access(match.group(1), match.group(2) or match.group(1), kind, line.strip()))
    return accesses, full_sort


def full_scans(accesses: list[Access], full_sort: bool, tables: set[str], search: bool = False) -> list[Access]:
    """Accesses that read all of a table: a scan, or a walk nothing stops early (the rows are sorted afterwards, or
    `search`: a search filter only a handful of rows match, so LIMIT is never reached)."""
    return [a for a in accesses if a.table in tables and (a.kind == "scan" or (a.kind == "walk" and (full_sort or search)))]


def describe(accesses: list[Access], full_sort: bool) -> str:
    parts = [f"{a.table}: {a.kind}" for a in accesses]
    return "; ".join(parts) + ("; then sorts every matching row" if full_sort else "")


# ---------------------------------------------------------------- query shapes

# Which tables a list's queries must never read whole.
GUARDED = {"payments": {"payments"}, "subscriptions": {"subscriptions", "payments"}, "users": {"users", "payments"},
           "webhook-events": {"webhook_events"}}

# Filters and the default sorted, limited lists: asserted.
INDEXED = [
    ("payments-default", lambda f: Request("payments")),
    ("payments-page-20", lambda f: Request("payments", page=20)),
    ("payments-status-completed", lambda f: Request("payments", status="COMPLETED")),
    ("payments-status-partial-cancelled", lambda f: Request("payments", status="PARTIAL_CANCELLED")),
    ("payments-method-card", lambda f: Request("payments", method="카드")),
    ("payments-method-transfer", lambda f: Request("payments", method="계좌이체")),
    ("payments-date-range", lambda f: Request("payments", from_day="2024-03-01", to_day="2024-03-31")),
    ("payments-status-and-date-range", lambda f: Request("payments", status="FAILED", from_day="2024-03-01", to_day="2024-03-31")),
    ("payments-status-and-method", lambda f: Request("payments", status="COMPLETED", method="간편결제")),
    ("payments-plan-type", lambda f: Request("payments", plan_type="PREMIUM")),
    ("subscriptions-default", lambda f: Request("subscriptions")),
    ("subscriptions-status-active", lambda f: Request("subscriptions", status="ACTIVE")),
    ("subscriptions-status-past-due", lambda f: Request("subscriptions", status="PAST_DUE")),
    ("subscriptions-plan-type", lambda f: Request("subscriptions", plan_type="ENTERPRISE")),
    ("subscriptions-date-range", lambda f: Request("subscriptions", from_day="2024-03-01", to_day="2024-03-31")),
    ("users-default", lambda f: Request("users")),
    ("users-date-range", lambda f: Request("users", from_day="2024-03-01", to_day="2024-03-31")),
    ("webhook-events-default", lambda f: Request("webhook-events")),
    ("webhook-events-date-range", lambda f: Request("webhook-events", from_day="2024-03-01", to_day="2024-03-31")),
    ("webhook-events-type", lambda f: Request("webhook-events", event_type="BILLING_DELETED")),
    ("webhook-events-outcome", lambda f: Request("webhook-events", status="UNKNOWN_PAYMENT")),
]

# Searches for an exact identifier (unique columns with unique indexes): payments must be reached through an index.
EXACT_SEARCHES = [
    ("payments-search-order-id", lambda f: Request("payments", q=f.sample["order_id"])),
    ("payments-search-payment-key", lambda f: Request("payments", q=f.sample["payment_key"])),
    ("payments-search-customer-key", lambda f: Request("payments", q=f.sample["customer_key"])),
    ("subscriptions-search-order-id", lambda f: Request("subscriptions", q=f.sample["order_id"])),
    ("subscriptions-search-payment-key", lambda f: Request("subscriptions", q=f.sample["payment_key"])),
    ("subscriptions-search-customer-key", lambda f: Request("subscriptions", q=f.sample["customer_key"])),
    ("users-search-order-id", lambda f: Request("users", q=f.sample["order_id"])),
    ("users-search-payment-key", lambda f: Request("users", q=f.sample["payment_key"])),
    ("users-search-customer-key", lambda f: Request("users", q=f.sample["customer_key"])),
]

# Free-text substring searches (LOWER(col) LIKE '%q%': no B-tree index can serve them) and the other sort orders: reported only.
REPORTED = [
    ("payments-search-username", lambda f: Request("payments", q=f.sample["username"])),
    ("payments-search-email", lambda f: Request("payments", q=f.sample["email"])),
    ("payments-search-partial", lambda f: Request("payments", q="member0084")),
    ("subscriptions-search-username", lambda f: Request("subscriptions", q=f.sample["username"])),
    ("users-search-username", lambda f: Request("users", q=f.sample["username"])),
    ("users-search-email", lambda f: Request("users", q=f.sample["email"])),
    ("webhook-events-search", lambda f: Request("webhook-events", q="tx_0")),
    ("payments-sort-amount", lambda f: Request("payments", sort="-amount")),
    ("payments-sort-paid-at", lambda f: Request("payments", sort="paid_at")),
    ("payments-sort-refunded-amount", lambda f: Request("payments", sort="-refunded_amount")),
    ("payments-sort-status", lambda f: Request("payments", sort="status")),
    ("subscriptions-sort-username", lambda f: Request("subscriptions", sort="username")),
    ("users-sort-username", lambda f: Request("users", sort="username")),
]

ALL_SHAPES = INDEXED + EXACT_SEARCHES + REPORTED


def ids_of(shapes):
    return [name for name, _ in shapes]


# ---------------------------------------------------------------- fixtures


def write_artifact(stack, name: str, sql: str, params: list, plans: list[Plan]) -> None:
    text = [f"-- {stack.db}: {name}", sql + ";", f"-- parameters: {params!r}", ""]
    for plan in plans:
        text += [f"-- {plan.label}", plan.text, ""]
    report = "\n".join(text)
    EXPLAIN_DIR.mkdir(parents=True, exist_ok=True)
    (EXPLAIN_DIR / f"{stack.db}-{name}.txt").write_text(report)
    print("\n" + report)


@pytest.fixture(scope="module")
def summary(stack):
    """Verdicts of every explained shape, written to test-artifacts/explain/<db>-summary.txt at the end of the module."""
    lines: dict[str, str] = {}
    yield lines
    if lines:
        text = f"{stack.db}: admin list queries, {N_PAYMENTS:,} payments\n" + "\n".join(lines[name] for name in sorted(lines)) + "\n"
        EXPLAIN_DIR.mkdir(parents=True, exist_ok=True)
        (EXPLAIN_DIR / f"{stack.db}-summary.txt").write_text(text)
        print("\n" + text)


BIG_TABLES = {"payments", "subscriptions", "users", "webhook_events"}
LIST_TABLE = {"payments": "payments", "subscriptions": "subscriptions", "users": "users", "webhook-events": "webhook_events"}


def filtered(request: Request) -> bool:
    return any(value is not None for value in (request.q, request.status, request.plan_type, request.cycle, request.method,
                                               request.event_type, request.staff, request.from_day, request.to_day))


def explained(stack, filled, summary, group: str, name: str, make, guarded: set[str], search: bool = False):
    """Explains one shape, writes its artifact, records its verdict. Returns (sql, params, [(plan, accesses, full_sort, scans)])."""
    request = make(filled)
    sql, params = rebuild(stack, request)
    plans = [(sql, plan) for plan in explain(stack, sql, params)]
    if request.list == "payments" and request.q:
        plans += [(EXACT_PAYMENT_SEARCH, plan) for plan in explain(stack, EXACT_PAYMENT_SEARCH, [request.q] * 3)]
    write_artifact(stack, name, sql, params, [plan for _, plan in plans])
    results = []
    verdicts = []
    for plan_sql, plan in plans:
        accesses, full_sort = read_plan(stack.db, plan_sql, plan)
        results.append((plan, accesses, full_sort, full_scans(accesses, full_sort, guarded, search)))
        whole = {a.table for a in full_scans(accesses, full_sort, BIG_TABLES, search)}
        if full_sort and not filtered(request):
            whole.add(LIST_TABLE[request.list])  # no WHERE, sorted afterwards: every row of the list is read and sorted
        state = "reads ALL of " + ", ".join(sorted(whole)) if whole else "no whole-table read"
        verdicts.append(f"    [{plan.label.split(' (')[0]}] {state} -- {describe(accesses, full_sort)}")
    summary[name] = f"{name}  ({group})\n" + "\n".join(verdicts)
    return sql, params, results


def failure_message(stack, name, sql, params, results, why: str) -> str:
    parts = [f"{stack.db} {name}: {why}", f"SQL: {sql}", f"parameters: {params!r}"]
    for plan, _, _, scans in results:
        if scans:
            parts += [f"-- {plan.label}: reads all of {sorted({a.table for a in scans})} via {[a.line for a in scans]}", plan.text]
    parts.append(f"(all plans: test-artifacts/explain/{stack.db}-{name}.txt)")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def staff(stack, analysed):
    name = f"idxstaff_{uuid.uuid4().hex[:6]}"
    stack.create_user(name, PASSWORD, staff=True)
    return stack.login(name, PASSWORD)


def run_sql(stack, sql: str, params: list) -> list[str]:
    """The first column (the row id) of the rebuilt query's rows, executed like gudok executes it."""
    if stack.db == "sqlite":
        with sqlite3.connect(sqlite_path(stack)) as connection:
            return [row[0] for row in connection.execute(sql, params).fetchall()]
    arguments = ", ".join(pg_literal(value) for value in params)
    output = pg_run(stack, f"PREPARE gudok_q AS {numbered(sql)};\nEXECUTE gudok_q({arguments});\n")
    return [line.split("|", 1)[0] for line in output.splitlines() if line]


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("name,make", ALL_SHAPES, ids=ids_of(ALL_SHAPES))
def test_rebuilt_sql_returns_what_the_app_returns(stack, analysed, staff, name, make):
    """The SQL explained here is the app's: same rows, same order, same has_next as /api/admin/<list>."""
    request = make(analysed)
    sql, params = rebuild(stack, request)
    rows = run_sql(stack, sql, params)
    response = staff.get(f"/api/admin/{request.list}", params=request.api_params())
    assert response.status_code == 200, (response.status_code, response.text[:300])
    body = response.json()
    assert [item["id"] for item in body["items"]] == rows[:PER_PAGE], (
        f"{name}: the rebuilt SQL no longer matches what gudok runs (AdminListings.swift changed?)\nSQL: {sql}\nparameters: {params!r}")
    assert body["has_next"] == (len(rows) > PER_PAGE)


@pytest.mark.parametrize("name,make", INDEXED, ids=ids_of(INDEXED))
def test_list_filters_and_default_lists_use_indexes(stack, analysed, summary, name, make):
    """No full scan of payments (nor of the list's own table) for a filter or the default sorted list with LIMIT: a table
    is either searched through an index on the filter, or walked along an index in the ORDER BY's order, so LIMIT stops it."""
    list_name = make(analysed).list
    sql, params, results = explained(stack, analysed, summary, "asserted: filter/default list", name, make, GUARDED[list_name])
    bad = [r for r in results if r[3]]
    assert not bad, failure_message(stack, name, sql, params, results, "a list query reads a whole table")


@pytest.mark.parametrize("name,make", EXACT_SEARCHES, ids=ids_of(EXACT_SEARCHES))
def test_exact_identifier_searches_reach_payments_through_an_index(stack, analysed, summary, name, make):
    """Searching an order id, paymentKey or customer_key (unique, indexed columns) must not read all payments: at 1M payments
    the back office's most common lookup would read every payment (plus a user and a subscription lookup per row)."""
    list_name = make(analysed).list
    sql, params, results = explained(stack, analysed, summary, "asserted: exact-identifier search", name, make, {"payments"}, search=True)
    bad = [r for r in results if r[3]]
    assert not bad, failure_message(
        stack, name, sql, params, results,
        f"searching /admin/{list_name} for one identifier reads every payment: the unique indexes on payments.order_id, "
        "payments.payment_key and subscriptions.customer_key must serve an exact identifier "
        f"(AdminListings.{list_name}(_:) in Sources/App/Admin/AdminListings.swift)")


def test_free_text_searches_and_other_sorts_are_reported(stack, analysed, summary):
    """Substring searches cannot use a B-tree index and the other sort orders have no index: their plans are written out
    and summarised (test-artifacts/explain/<db>-summary.txt), not asserted."""
    scanning = []
    for name, make in REPORTED:
        list_name = make(analysed).list
        _, _, results = explained(stack, analysed, summary, "reported", name, make, GUARDED[list_name], search="search" in name)
        if any(r[3] for r in results):
            scanning.append(name)
    print(f"\n{stack.db}: reported shapes that read a whole table: {', '.join(scanning) or 'none'}")
    assert len(summary) >= len(REPORTED)
