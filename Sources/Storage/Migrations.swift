import Foundation

/// A versioned schema change of the application using this driver layer. One SQL text serves SQLite and PostgreSQL, with
/// statements of their own for what differs.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]
    /// Run after `statements`, on that database only (sequences, partial-index syntax that differs).
    public let sqliteStatements: [String]
    public let postgresStatements: [String]

    public init(version: Int, name: String, statements: [String], sqliteStatements: [String] = [], postgresStatements: [String] = []) {
        self.version = version
        self.name = name
        self.statements = statements
        self.sqliteStatements = sqliteStatements
        self.postgresStatements = postgresStatements
    }
}

/// Applies pending migrations. Safe to run twice and while servers run: each migration applies in one transaction
/// under a lock (SQLite's write lock, a PostgreSQL advisory lock) and is recorded in `schema_migrations`.
public struct Migrator {
    public let database: Database
    /// The application's schema, oldest first.
    public let migrations: [Migration]

    public init(database: Database, migrations: [Migration]) {
        self.database = database
        self.migrations = migrations
    }

    @discardableResult
    public func migrate(now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> [Migration] {
        try database.withConnection { connection in
            if connection.dialect == .postgres { try connection.execute("SELECT pg_advisory_lock(?)", [.int(0x6775646F6B)]) }
            defer { if connection.dialect == .postgres { _ = try? connection.execute("SELECT pg_advisory_unlock(?)", [.int(0x6775646F6B)]) } }
            try connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)", [])
            var applied: [Migration] = []
            for migration in migrations {
                let didApply = try connection.transaction(immediate: true) { () -> Bool in
                    guard try connection.queryOne("SELECT version FROM schema_migrations WHERE version = ?", [.int(Int64(migration.version))]) == nil
                    else { return false }
                    let own = connection.dialect == .postgres ? migration.postgresStatements : migration.sqliteStatements
                    for statement in migration.statements + own { try connection.execute(statement, []) }
                    try connection.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                           [.int(Int64(migration.version)), .text(migration.name), .int(now)])
                    return true
                }
                if didApply { applied.append(migration) }
            }
            return applied
        }
    }

    public func pendingVersions() throws -> [Int] {
        try database.withConnection { connection in
            let rows = (try? connection.query("SELECT version FROM schema_migrations", [])) ?? []
            let done = Set(rows.map { $0.int("version") })
            return migrations.map(\.version).filter { !done.contains($0) }
        }
    }
}
