import CLibPQ
import Foundation

/// PostgreSQL through libpq; parameterised statements only, prepared once per connection.
public final class PostgresDatabase: Database, @unchecked Sendable {
    public let dialect = SQLDialect.postgres
    private let pool: ConnectionPool<PostgresConnection>

    public init(connectionString: String) throws(DatabaseError) {
        pool = ConnectionPool { () throws(DatabaseError) in try PostgresConnection(connectionString: connectionString) }
        pool.giveBack(try pool.borrow())
    }

    public var idleConnections: Int { pool.idleCount }

    @discardableResult
    public func withConnection<T>(_ body: (DatabaseConnection) throws -> T) throws -> T {
        let connection = try pool.borrow()
        defer { if connection.isHealthy { pool.giveBack(connection) } }
        return try body(connection)
    }
}

final class PostgresConnection: DatabaseConnection {
    let dialect = SQLDialect.postgres
    private let handle: OpaquePointer
    private var prepared: [String: String] = [:]
    private var statementsPrepared = 0
    /// Column names of each prepared statement's results, read once.
    private var layouts: [String: ColumnLayout] = [:]
    private var inTransaction = false

    init(connectionString: String) throws(DatabaseError) {
        guard let handle = PQconnectdb(connectionString) else {
            throw DatabaseError(kind: .connection, message: "cannot allocate a PostgreSQL connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            // libpq's message may echo the host but never the password.
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw DatabaseError(kind: .connection, message: "cannot connect to PostgreSQL: \(message)")
        }
        self.handle = handle
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        PQclear(PQexec(handle, "SET TIME ZONE 'UTC'"))
    }

    deinit { PQfinish(handle) }

    var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK && !inTransaction }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> Int {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> [Row] {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        let layout = ColumnLayout.reusing(layouts[sql], count: Int(columnCount)) { PQfname(result, Int32($0)).map { UnsafePointer($0) } }
        layouts[sql] = layout
        let integerColumns = (0..<columnCount).map { [20, 21, 23, 16].contains(PQftype(result, $0)) }
        var rows: [Row] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(.null)
                    continue
                }
                let text = String(cString: PQgetvalue(result, row, column))
                if integerColumns[Int(column)] {
                    values.append(.int(text == "t" ? 1 : text == "f" ? 0 : Int64(text) ?? 0))
                } else {
                    values.append(.text(text))
                }
            }
            rows.append(Row(layout: layout, values: values))
        }
        return rows
    }

    func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        precondition(!inTransaction, "nested transactions are not supported")
        try execute("BEGIN", [])
        inTransaction = true
        do {
            let value = try body()
            inTransaction = false
            try execute("COMMIT", [])
            return value
        } catch {
            inTransaction = false
            _ = try? execute("ROLLBACK", [])
            throw error
        }
    }

    /// `?` → `$1, $2, …` (gudok's SQL never has a literal `?`).
    static func numberPlaceholders(_ sql: String) -> String {
        var out = ""
        var number = 0
        for character in sql {
            if character == "?" {
                number += 1
                out += "$\(number)"
            } else {
                out.append(character)
            }
        }
        return out
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> OpaquePointer {
        do {
            return try runOnce(sql, parameters)
        } catch let failure where failure.message.contains("cached plan must not change result type") {
            // A migration changed a table a prepared statement reads (`SELECT *` after ADD COLUMN): prepare it again. Inside a
            // transaction the transaction is lost anyway; the caller's retry will prepare afresh.
            prepared[sql] = nil
            layouts[sql] = nil
            if inTransaction { throw failure }
            return try runOnce(sql, parameters)
        }
    }

    private func runOnce(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> OpaquePointer {
        let texts: [String?] = parameters.map {
            switch $0 {
            case .null: nil
            case .int(let i): String(i)
            case .text(let s): s
            }
        }
        let isUtility = parameters.isEmpty && (sql.hasPrefix("BEGIN") || sql.hasPrefix("COMMIT") || sql.hasPrefix("ROLLBACK"))
        let name: String?
        if isUtility || sql.contains(";") {
            name = nil
        } else if let existing = prepared[sql] {
            name = existing
        } else {
            statementsPrepared += 1
            let newName = "s\(statementsPrepared)"
            let result = PQprepare(handle, newName, PostgresConnection.numberPlaceholders(sql), 0, nil)
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw error(result, sql: sql) }
            prepared[sql] = newName
            name = newName
        }
        var cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.flatMap { strdup($0) } }
        defer { cStrings.forEach { free($0) } }
        let result: OpaquePointer? = cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buffer.count, 1)) { values in
                if let name {
                    return PQexecPrepared(handle, name, Int32(texts.count), texts.isEmpty ? nil : values, nil, nil, 0)
                } else if texts.isEmpty {
                    return PQexec(handle, sql)
                } else {
                    return PQexecParams(handle, PostgresConnection.numberPlaceholders(sql), Int32(texts.count), nil, values, nil, nil, 0)
                }
            }
        }
        guard let result else {
            throw DatabaseError(kind: .connection, message: "PostgreSQL: \(String(cString: PQerrorMessage(handle)))", sql: sql)
        }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let failure = error(result, sql: sql)
            PQclear(result)
            throw failure
        }
        return result
    }

    private func error(_ result: OpaquePointer?, sql: String) -> DatabaseError {
        let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
        let kind: DatabaseError.Kind
        if PQstatus(handle) != CONNECTION_OK || state.hasPrefix("08") {
            kind = .connection
        } else if state == "23505" {
            kind = .uniqueViolation
        } else if state.hasPrefix("23") {
            kind = .constraint
        } else if state == "40001" || state == "40P01" || state == "55P03" {
            kind = .busy
        } else {
            kind = .other
        }
        return DatabaseError(kind: kind, message: "PostgreSQL \(state): \(message)", sql: sql)
    }
}
