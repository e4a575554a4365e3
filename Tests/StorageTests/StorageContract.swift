import Foundation
import XCTest
@testable import Storage

/// Behaviour both database drivers must share; `SQLiteStorageTests` and `PostgresStorageTests` run every check.
enum StorageContract {
    /// A small schema of its own, so the drivers are tested apart from gudok's: a unique key, a CHECK, a foreign key, and a
    /// statement for each database.
    static let schema = [
        Migration(version: 1, name: "accounts", statements: [
            "CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, name TEXT, name_key TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL)",
        ]),
        Migration(version: 2, name: "prices and logins", statements: [
            "CREATE TABLE IF NOT EXISTS prices (id TEXT PRIMARY KEY, amount BIGINT NOT NULL CHECK (amount >= 0))",
            "CREATE TABLE IF NOT EXISTS logins (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id))",
        ], sqliteStatements: ["CREATE TABLE IF NOT EXISTS dialect_marker (id INTEGER PRIMARY KEY)"],
           postgresStatements: ["CREATE TABLE IF NOT EXISTS dialect_marker (id BIGINT PRIMARY KEY)"]),
    ]
    static let allVersions = schema.map(\.version)

    static func migrator(_ database: Database) -> Migrator { Migrator(database: database, migrations: schema) }

    static func createScratchTable(_ database: Database) throws {
        _ = try database.withConnection { connection in
            try connection.execute(
                "CREATE TABLE scratch (id TEXT PRIMARY KEY, label TEXT, amount BIGINT, flag INTEGER, note TEXT NOT NULL DEFAULT '')", [])
        }
    }

    static func migrationsApplyEveryVersionOnce(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        let migrator = migrator(database)
        XCTAssertEqual(try migrator.pendingVersions(), allVersions, "\(fixture.name): a fresh database has every migration pending")
        let first = try migrator.migrate(now: 1_700_000_000)
        XCTAssertEqual(first.map(\.version), allVersions, "\(fixture.name): first run")
        XCTAssertEqual(try migrator.pendingVersions(), [], "\(fixture.name): nothing pending after the first run")
        let second = try migrator.migrate(now: 1_700_000_100)
        XCTAssertEqual(second.map(\.version), [], "\(fixture.name): second run must apply nothing")
        let recorded = try database.withConnection { try $0.query("SELECT version, applied_at FROM schema_migrations ORDER BY version", []) }
        XCTAssertEqual(recorded.map { $0.int("version") }, allVersions, "\(fixture.name): schema_migrations rows")
        XCTAssertEqual(Set(recorded.map { $0.int("applied_at") }), [1_700_000_000], "\(fixture.name): applied_at kept from the first run")
        for table in ["accounts", "prices", "logins", "dialect_marker"] {
            let count = try database.withConnection { try $0.queryOne("SELECT COUNT(*) AS n FROM \(table)", []) }
            XCTAssertEqual(count?.int("n"), 0, "\(fixture.name): table \(table) exists and is empty")
        }
    }

    static func migrationsFromASecondPoolSeeTheFirstRun(_ fixture: StorageFixture) throws {
        XCTAssertEqual(try migrator(try fixture.open()).migrate().count, allVersions.count, fixture.name)
        XCTAssertEqual(try migrator(try fixture.open()).migrate().count, 0, "\(fixture.name): a second process applies nothing")
    }

    static func concurrentMigratorsDoNotFail(_ fixture: StorageFixture, migrators: Int = 4) throws {
        let databases = try (0..<migrators).map { _ in try fixture.open() }
        let applied = Locked<[Int]>([])
        let failures = Locked<[String]>([])
        runConcurrently(migrators) { index in
            do {
                let versions = try migrator(databases[index]).migrate().map(\.version)
                applied.withValue { $0.append(contentsOf: versions) }
            } catch {
                failures.withValue { $0.append("migrator \(index): \(error)") }
            }
        }
        XCTAssertEqual(failures.current, [], "\(fixture.name): concurrent migrators failed")
        XCTAssertEqual(applied.current.sorted(), allVersions, "\(fixture.name): each migration applied by exactly one migrator")
        let rows = try databases[0].withConnection { try $0.query("SELECT version FROM schema_migrations ORDER BY version", []) }
        XCTAssertEqual(rows.map { $0.int("version") }, allVersions, fixture.name)
    }

    /// Result layouts are cached per statement; a schema change since must show in the rows of the same query.
    static func aRepeatedQuerySeesColumnsAddedSince(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try createScratchTable(database)
        try database.withConnection { connection in
            try connection.execute("INSERT INTO scratch (id, label) VALUES (?, ?)", "a", "first")
            XCTAssertEqual(try connection.queryOne("SELECT * FROM scratch", [])?.columns.count, 5, fixture.name)
            try connection.execute("ALTER TABLE scratch ADD COLUMN extra TEXT NOT NULL DEFAULT 'added'", [])
            let row = try XCTUnwrap(try connection.queryOne("SELECT * FROM scratch", []), fixture.name)
            XCTAssertEqual(row.columns.count, 6, fixture.name)
            XCTAssertEqual(row.string("extra"), "added", fixture.name)
            XCTAssertEqual(row.string("label"), "first", fixture.name)
        }
    }

    static func everyValueKindRoundTrips(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try createScratchTable(database)
        let texts: [SQLValue] = [.text(""), .text("베이직 플랜 — 9,900원 😀"), .text("it's \"quoted\"; DROP TABLE scratch; --"),
                                 .text("question? marks?"), .text("back\\slash\nnewline\ttab"), .text(String(repeating: "가", count: 10_000)),
                                 .null]
        let numbers: [SQLValue] = [.int(0), .int(-1), .int(9900), .int(Int64.max), .int(Int64.min), .int(Int64(Int32.max) + 1), .null]
        var expected: [(String, SQLValue, SQLValue)] = []
        try database.withConnection { connection in
            for (index, (text, number)) in zip(texts, numbers).enumerated() {
                let id = "row-\(index)"
                try connection.execute("INSERT INTO scratch (id, label, amount, flag) VALUES (?, ?, ?, ?)", [.text(id), text, number, .bool(index % 2 == 0)])
                expected.append((id, text, number))
            }
        }
        let rows = try database.withConnection { try $0.query("SELECT id, label, amount, flag FROM scratch ORDER BY id", []) }
        XCTAssertEqual(rows.count, expected.count, fixture.name)
        for (row, (id, text, number)) in zip(rows, expected) {
            XCTAssertEqual(row["id"], .text(id), fixture.name)
            XCTAssertEqual(row["label"], text, "\(fixture.name): label of \(id)")
            XCTAssertEqual(row["amount"], number, "\(fixture.name): amount of \(id)")
            XCTAssertEqual(row.bool("flag"), Int(id.dropFirst(4))! % 2 == 0, "\(fixture.name): flag of \(id)")
        }
        let extremes = try database.withConnection {
            try $0.queryOne("SELECT amount FROM scratch WHERE amount = ? OR amount = ? ORDER BY amount", [.int(Int64.min), .int(Int64.max)])
        }
        XCTAssertEqual(extremes?["amount"], .int(Int64.min), "\(fixture.name): Int64.min compares exactly as a parameter")
    }

    static func rowAccessorsConvert(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try createScratchTable(database)
        _ = try database.withConnection { try $0.execute("INSERT INTO scratch (id, label, amount, flag) VALUES (?, ?, ?, ?)", "a", nil, 42, .bool(true)) }
        let row = try database.withConnection { try $0.queryOne("SELECT * FROM scratch WHERE id = ?", "a") }
        XCTAssertEqual(row?.string("id"), "a", fixture.name)
        XCTAssertNil(row?.optionalString("label"), fixture.name)
        XCTAssertEqual(row?.string("label"), "", fixture.name)
        XCTAssertEqual(row?.int("amount"), 42, fixture.name)
        XCTAssertEqual(row?.optionalString("amount"), "42", fixture.name)
        XCTAssertEqual(row?.bool("flag"), true, fixture.name)
        XCTAssertEqual(row?.string("note"), "", "\(fixture.name): column default")
        let none = try database.withConnection { try $0.queryOne("SELECT * FROM scratch WHERE id = ?", "missing") }
        XCTAssertNil(none, fixture.name)
    }

    static func executeReportsAffectedRows(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try createScratchTable(database)
        try database.withConnection { connection in
            for id in ["a", "b", "c"] { XCTAssertEqual(try connection.execute("INSERT INTO scratch (id, amount) VALUES (?, ?)", .text(id), 1), 1) }
            XCTAssertEqual(try connection.execute("UPDATE scratch SET amount = amount + 1 WHERE amount = ?", 1), 3, fixture.name)
            XCTAssertEqual(try connection.execute("UPDATE scratch SET amount = 0 WHERE id = ?", "zzz"), 0, fixture.name)
            XCTAssertEqual(try connection.execute("DELETE FROM scratch WHERE id <> ?", "a"), 2, fixture.name)
        }
    }

    static func duplicateKeyIsAUniqueViolation(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try createScratchTable(database)
        try database.withConnection { connection in
            try connection.execute("INSERT INTO scratch (id, label) VALUES (?, ?)", "dup", "first")
            do {
                try connection.execute("INSERT INTO scratch (id, label) VALUES (?, ?)", "dup", "second")
                XCTFail("\(fixture.name): a duplicate primary key was accepted")
            } catch let error as DatabaseError {
                XCTAssertEqual(error.kind, .uniqueViolation, "\(fixture.name): \(error)")
                XCTAssertTrue(error.isUniqueViolation, "\(fixture.name): \(error)")
                XCTAssertEqual(error.sql, "INSERT INTO scratch (id, label) VALUES (?, ?)", "\(fixture.name): the failing SQL is kept for the log")
            }
            // The cached statement is reusable after the failure.
            try connection.execute("INSERT INTO scratch (id, label) VALUES (?, ?)", "other", "ok")
        }
        let count = try database.withConnection { try $0.queryOne("SELECT COUNT(*) AS n FROM scratch", []) }
        XCTAssertEqual(count?.int("n"), 2, fixture.name)
    }

    static func uniqueColumnViolationIsAUniqueViolation(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try migrator(database).migrate()
        let insert = "INSERT INTO accounts (id, name, name_key, created_at) VALUES (?, ?, ?, ?)"
        try database.withConnection { connection in
            try connection.execute(insert, "u1", "Alice", "alice", 1)
            do {
                try connection.execute(insert, "u2", "ALICE", "alice", 1)
                XCTFail("\(fixture.name): a duplicate name_key was accepted")
            } catch let error as DatabaseError {
                XCTAssertEqual(error.kind, .uniqueViolation, "\(fixture.name): \(error)")
                XCTAssertTrue(error.isUniqueViolation, "\(fixture.name): \(error)")
            }
        }
    }

    /// Callers treat a unique violation as "someone else got there first" (sign-up → 409 USERNAME_TAKEN, Charger,
    /// SubscriptionService, WebhooksAPI), so NOT NULL, CHECK and FOREIGN KEY failures must not look like one.
    static func otherConstraintFailuresAreNotUniqueViolations(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try migrator(database).migrate()
        try database.withConnection { connection in
            let cases: [(String, String, [SQLValue])] = [
                ("NOT NULL", "INSERT INTO accounts (id, name, name_key, created_at) VALUES (?, ?, ?, ?)", ["u1", "n", nil, 1]),
                ("CHECK", "INSERT INTO prices (id, amount) VALUES (?, ?)", ["p1", -1]),
                ("FOREIGN KEY", "INSERT INTO logins (id, account_id) VALUES (?, ?)", ["l1", "no-such-account"]),
            ]
            for (label, sql, parameters) in cases {
                do {
                    try connection.execute(sql, parameters)
                    XCTFail("\(fixture.name): \(label) violation accepted")
                } catch let error as DatabaseError {
                    XCTAssertEqual(error.kind, .constraint, "\(fixture.name) \(label): \(error)")
                    XCTAssertFalse(error.isUniqueViolation,
                                   "\(fixture.name) reports a \(label) violation as a unique violation: \(error.message)")
                }
            }
        }
    }

    static func transactionCommits(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try createScratchTable(database)
        let answer = try database.withConnection { connection in
            try connection.transaction { () -> Int in
                try connection.execute("INSERT INTO scratch (id, amount) VALUES (?, ?)", "t1", 1)
                try connection.execute("INSERT INTO scratch (id, amount) VALUES (?, ?)", "t2", 2)
                return 42
            }
        }
        XCTAssertEqual(answer, 42, fixture.name)
        let other = try fixture.open()
        let count = try other.withConnection { try $0.queryOne("SELECT COUNT(*) AS n FROM scratch", []) }
        XCTAssertEqual(count?.int("n"), 2, "\(fixture.name): a committed transaction is visible to another pool")
    }

    struct Abort: Error {}

    static func transactionRollsBackOnError(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try createScratchTable(database)
        try database.withConnection { connection in
            XCTAssertThrowsError(try connection.transaction { () -> Void in
                try connection.execute("INSERT INTO scratch (id, amount) VALUES (?, ?)", "r1", 1)
                throw Abort()
            }) { error in XCTAssertTrue(error is Abort, "\(fixture.name): the body's error propagates, got \(error)") }
            XCTAssertThrowsError(try connection.transaction { () -> Void in
                try connection.execute("INSERT INTO scratch (id, amount) VALUES (?, ?)", "r2", 1)
                try connection.execute("INSERT INTO scratch (id, amount) VALUES (?, ?)", "r2", 1)
            }) { error in XCTAssertEqual((error as? DatabaseError)?.kind, .uniqueViolation, "\(fixture.name): \(error)") }
            // The connection is usable again: a new transaction commits.
            _ = try connection.transaction { try connection.execute("INSERT INTO scratch (id, amount) VALUES (?, ?)", "r3", 3) }
        }
        let rows = try database.withConnection { try $0.query("SELECT id FROM scratch ORDER BY id", []) }
        XCTAssertEqual(rows.map { $0.string("id") }, ["r3"], "\(fixture.name): rolled-back rows must be gone")
    }

    static func updateReturningAnswersTheChangedRows(_ fixture: StorageFixture) throws {
        let database = try fixture.open()
        try createScratchTable(database)
        try database.withConnection { connection in
            for (id, amount) in [("a", 100), ("b", 200), ("c", 300)] {
                try connection.execute("INSERT INTO scratch (id, amount, label) VALUES (?, ?, ?)", .text(id), .int(Int64(amount)), "old")
            }
            let rows = try connection.query("UPDATE scratch SET label = ?, amount = amount + 1 WHERE amount >= ? RETURNING id, amount, label",
                                            ["새 라벨", 200])
            XCTAssertEqual(rows.map { $0.string("id") }.sorted(), ["b", "c"], fixture.name)
            XCTAssertEqual(rows.map { $0.int("amount") }.sorted(), [201, 301], fixture.name)
            XCTAssertEqual(Set(rows.map { $0.string("label") }), ["새 라벨"], fixture.name)
            let none = try connection.query("UPDATE scratch SET label = ? WHERE id = ? RETURNING id", ["x", "missing"])
            XCTAssertEqual(none.count, 0, fixture.name)
        }
    }

    static func concurrentTransactionsFromManyThreadsAllCommit(_ fixture: StorageFixture, threads: Int = 8, increments: Int = 25) throws {
        let database = try fixture.open()
        try createScratchTable(database)
        _ = try database.withConnection { try $0.execute("INSERT INTO scratch (id, amount) VALUES (?, ?)", "counter", 0) }
        let failures = Locked<[String]>([])
        runConcurrently(threads) { thread in
            for _ in 0..<increments {
                do {
                    try database.withConnection { connection in
                        try connection.transaction {
                            let row = try connection.queryOne("SELECT amount FROM scratch WHERE id = ?", "counter")
                            let value = row?.int("amount") ?? -1_000_000
                            try connection.execute("UPDATE scratch SET amount = ? WHERE id = ?", .int(Int64(value + 1)), "counter")
                        }
                    }
                } catch {
                    failures.withValue { $0.append("thread \(thread): \(error)") }
                }
            }
        }
        let total = try database.withConnection { try $0.queryOne("SELECT amount FROM scratch WHERE id = ?", "counter") }
        if fixture.name == "SQLite" {
            // SQLite's BEGIN IMMEDIATE serialises writers, so read-modify-write never loses an update.
            XCTAssertEqual(failures.current, [], fixture.name)
            XCTAssertEqual(total?.int("amount"), threads * increments, "\(fixture.name): lost updates")
        } else {
            // PostgreSQL's READ COMMITTED lets read-modify-write lose updates; only require that nothing failed.
            XCTAssertEqual(failures.current, [], fixture.name)
            XCTAssertGreaterThan(total?.int("amount") ?? 0, 0, fixture.name)
        }
        XCTAssertGreaterThan(database.idleConnections, 0, "\(fixture.name): connections go back to the pool")
    }
}
