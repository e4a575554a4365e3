import Foundation

/// A value bound to or read from SQL. Times are stored as Unix seconds (BIGINT), booleans as 0/1, so one SQL text serves both databases.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case text(String)

    public static func bool(_ value: Bool) -> SQLValue { .int(value ? 1 : 0) }
    public static func optional(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    public static func optional(_ value: Int?) -> SQLValue { value.map { .int(Int64($0)) } ?? .null }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .int(Int64(value)) }
    public init(nilLiteral: ()) { self = .null }
}

/// The column names of one result set, looked up by name once per set rather than once per row.
public final class ColumnLayout: Sendable {
    public let names: [String]
    let positions: [String: Int]

    public init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }

    /// Whether this layout still describes a result whose `count` column names `name(i)` gives (as C strings): a cached
    /// layout is reused across executions of one statement, unless a schema change altered what it returns.
    func matches(count: Int, name: (Int) -> UnsafePointer<CChar>?) -> Bool {
        guard names.count == count else { return false }
        for (index, known) in names.enumerated() {
            guard let current = name(index), known.withCString({ strcmp($0, current) == 0 }) else { return false }
        }
        return true
    }

    /// The cached layout when it still matches, or a new one read from the result.
    static func reusing(_ cached: ColumnLayout?, count: Int, name: (Int) -> UnsafePointer<CChar>?) -> ColumnLayout {
        if let cached, cached.matches(count: count, name: name) { return cached }
        return ColumnLayout((0..<count).map { name($0).map { String(cString: $0) } ?? "" })
    }
}

/// One result row; columns by name.
public struct Row: Sendable {
    public let layout: ColumnLayout
    public let values: [SQLValue]

    public init(layout: ColumnLayout, values: [SQLValue]) {
        self.layout = layout
        self.values = values
    }

    public init(columns: [String], values: [SQLValue]) { self.init(layout: ColumnLayout(columns), values: values) }

    public var columns: [String] { layout.names }

    public subscript(_ name: String) -> SQLValue {
        guard let index = layout.positions[name] else { preconditionFailure("no column \(name) in \(layout.names)") }
        return values[index]
    }

    public func string(_ name: String) -> String {
        switch self[name] {
        case .text(let s): s
        case .int(let i): String(i)
        case .null: ""
        }
    }

    public func optionalString(_ name: String) -> String? {
        switch self[name] {
        case .text(let s): s
        case .int(let i): String(i)
        case .null: nil
        }
    }

    public func int(_ name: String) -> Int { optionalInt(name) ?? 0 }

    public func optionalInt(_ name: String) -> Int? {
        switch self[name] {
        case .int(let i): Int(i)
        case .text(let s): Int(s)
        case .null: nil
        }
    }

    public func bool(_ name: String) -> Bool { int(name) != 0 }

    /// A column holding one of a fixed set of words (a status, a kind). Anything else is damaged data: an error naming
    /// the column and the value, never a silent default.
    public func word<T: RawRepresentable>(_ name: String, as type: T.Type = T.self) throws(DatabaseError) -> T where T.RawValue == String {
        let text = string(name)
        guard let value = T(rawValue: text) else {
            throw DatabaseError(kind: .other, message: "column \(name) holds \"\(text)\", which is not a \(T.self)")
        }
        return value
    }
}
