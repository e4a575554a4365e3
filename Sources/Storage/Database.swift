public enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case connection, uniqueViolation, constraint, busy, other }
    public let kind: Kind
    public let message: String
    /// Kept for the server log; never shown to clients.
    public let sql: String?

    public init(kind: Kind, message: String, sql: String? = nil) {
        self.kind = kind
        self.message = message
        self.sql = sql
    }

    public var description: String { sql.map { "\(message) [\($0)]" } ?? message }
    /// Only a duplicate key: NOT NULL, CHECK and FOREIGN KEY failures are `.constraint`.
    public var isUniqueViolation: Bool { kind == .uniqueViolation }
}

/// A connection used by one thread at a time. SQL uses `?` placeholders on both databases.
public protocol DatabaseConnection: AnyObject {
    var dialect: SQLDialect { get }
    @discardableResult func execute(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> Int
    func query(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> [Row]
    /// Runs `body` in a transaction; `immediate` takes SQLite's write lock at BEGIN (PostgreSQL ignores it).
    func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T
}

extension DatabaseConnection {
    @discardableResult public func execute(_ sql: String, _ parameters: SQLValue...) throws(DatabaseError) -> Int {
        try execute(sql, parameters)
    }
    public func query(_ sql: String, _ parameters: SQLValue...) throws(DatabaseError) -> [Row] { try query(sql, parameters) }
    public func queryOne(_ sql: String, _ parameters: [SQLValue]) throws(DatabaseError) -> Row? { try query(sql, parameters).first }
    public func queryOne(_ sql: String, _ parameters: SQLValue...) throws(DatabaseError) -> Row? { try query(sql, parameters).first }
    public func transaction<T>(_ body: () throws -> T) throws -> T { try transaction(immediate: true, body) }
}

/// A pool of connections to one database; each thread borrows one for the length of a call.
public protocol Database: Sendable {
    var dialect: SQLDialect { get }
    /// Connections open and waiting in the pool (a gauge for /metrics).
    var idleConnections: Int { get }
    @discardableResult func withConnection<T>(_ body: (DatabaseConnection) throws -> T) throws -> T
}

public enum DatabaseURL {
    public enum Parsed: Equatable, Sendable {
        case sqlite(path: String)
        case postgres(connectionString: String)
    }

    /// `sqlite:RELATIVE`, `sqlite:///ABSOLUTE`, `postgres://…` or `postgresql://…`.
    public static func parse(_ url: String) -> Parsed? {
        if url.hasPrefix("sqlite:///") { return .sqlite(path: "/" + url.dropFirst("sqlite:///".count)) }
        if url.hasPrefix("sqlite://") { return nil }
        if url.hasPrefix("sqlite:") {
            let path = String(url.dropFirst("sqlite:".count))
            return path.isEmpty ? nil : .sqlite(path: path)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return .postgres(connectionString: url) }
        return nil
    }

    public static func open(_ url: String) throws(DatabaseError) -> Database {
        switch parse(url) {
        case .sqlite(let path): return try SQLiteDatabase(path: path)
        case .postgres(let connectionString): return try PostgresDatabase(connectionString: connectionString)
        case nil: throw DatabaseError(kind: .connection, message: "DATABASE_URL must start with sqlite: or postgres://")
        }
    }
}
