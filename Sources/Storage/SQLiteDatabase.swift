import CSQLite
import Foundation

/// SQLite in WAL mode with a busy timeout; one connection per borrowing thread, prepared statements cached per connection.
public final class SQLiteDatabase: Database, @unchecked Sendable {
    public let dialect = SQLDialect.sqlite
    public let path: String
    private let pool: ConnectionPool<SQLiteConnection>

    public init(path: String) throws(DatabaseError) {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let gate = NSLock()
        pool = ConnectionPool { () throws(DatabaseError) in try SQLiteConnection(path: path, writeGate: gate) }
        giveBack(try pool.borrow())
    }

    public var idleConnections: Int { pool.idleCount }

    @discardableResult
    public func withConnection<T>(_ body: (DatabaseConnection) throws -> T) throws -> T {
        let connection = try pool.borrow()
        defer { giveBack(connection) }
        return try body(connection)
    }

    private func giveBack(_ connection: SQLiteConnection) { pool.giveBack(connection) }
}

final class SQLiteConnection: DatabaseConnection {
    let dialect = SQLDialect.sqlite
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// Column names of each cached statement's results, read once.
    private var layouts: [String: ColumnLayout] = [:]
    private var inTransaction = false
    /// SQLite has one writer at a time. Threads of this process queue on a lock instead of in SQLite's busy handler,
    /// which sleeps in steps of milliseconds; other processes still wait through the busy timeout.
    private let writeGate: NSLock

    init(path: String, writeGate: NSLock) throws(DatabaseError) {
        self.writeGate = writeGate
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw DatabaseError(kind: .connection, message: "cannot open SQLite database \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, 10_000)
        try execute("PRAGMA journal_mode=WAL", [])
        try execute("PRAGMA synchronous=NORMAL", [])
        try execute("PRAGMA foreign_keys=ON", [])
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> Int {
        _ = try run(sql, parameters, collect: false)
        return Int(sqlite3_changes(handle))
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> [Row] {
        try run(sql, parameters, collect: true)
    }

    func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        precondition(!inTransaction, "nested transactions are not supported")
        if immediate { writeGate.lock() }
        defer { if immediate { writeGate.unlock() } }
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN", [])
        inTransaction = true
        defer { inTransaction = false }
        do {
            let value = try body()
            try execute("COMMIT", [])
            return value
        } catch {
            _ = try? execute("ROLLBACK", [])
            throw error
        }
    }

    private func prepare(_ sql: String) throws(DatabaseError) -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, sql: sql) }
        statements[sql] = statement
        return statement
    }

    private func run(_ sql: String, _ parameters: [SQLValue], collect: Bool) throws(DatabaseError) -> [Row] {
        let statement = try prepare(sql)
        let gated = !inTransaction && sqlite3_stmt_readonly(statement) == 0 && !sql.hasPrefix("BEGIN") && !sql.hasPrefix("PRAGMA")
        if gated { writeGate.lock() }
        defer {
            if gated { writeGate.unlock() }
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(statement, index)
            case .int(let i): code = sqlite3_bind_int64(statement, index, i)
            case .text(let s): code = gudok_sqlite3_bind_text(statement, index, s, Int32(s.utf8.count))
            }
            guard code == SQLITE_OK else { throw error(code, sql: sql) }
        }
        var rows: [Row] = []
        var layout: ColumnLayout?
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw error(code, sql: sql) }
            guard collect else { continue }
            let count = sqlite3_column_count(statement)
            if layout == nil {
                let reused = ColumnLayout.reusing(layouts[sql], count: Int(count)) { sqlite3_column_name(statement, Int32($0)) }
                layouts[sql] = reused
                layout = reused
            }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for column in 0..<count {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_NULL: values.append(.null)
                case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(statement, column)))
                default: values.append(.text(String(cString: sqlite3_column_text(statement, column))))
                }
            }
            rows.append(Row(layout: layout!, values: values))
        }
        return rows
    }

    private func error(_ code: Int32, sql: String) -> DatabaseError {
        let message = String(cString: sqlite3_errmsg(handle))
        let extended = sqlite3_extended_errcode(handle)
        let kind: DatabaseError.Kind = switch code & 0xFF {
        case SQLITE_CONSTRAINT where extended == gudok_sqlite_constraint_unique || extended == gudok_sqlite_constraint_primarykey: .uniqueViolation
        case SQLITE_CONSTRAINT: .constraint
        case SQLITE_BUSY, SQLITE_LOCKED: .busy
        case SQLITE_CANTOPEN, SQLITE_NOTADB: .connection
        default: .other
        }
        return DatabaseError(kind: kind, message: "SQLite error \(code): \(message)", sql: sql)
    }
}
