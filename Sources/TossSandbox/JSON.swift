// A small JSON value type with an ordered object representation, a strict
// parser and a compact serializer. Hand-written so the sandbox controls key
// order (to look like Toss's answers), integer vs. string amounts, and speed.

public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSON? {
        if case let .object(pairs) = self {
            for (k, v) in pairs where k == key { return v }
        }
        return nil
    }

    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// An integral number, or a string made only of digits (Toss's samples
    /// forward the redirect's `amount` query value as a JSON string).
    public var integerAmount: Int64? {
        switch self {
        case let .int(v): return v
        case let .double(d):
            if d.rounded() == d, abs(d) < 9e15 { return Int64(d) }
            return nil
        case let .string(s):
            guard !s.isEmpty, s.count <= 15, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int64(s)
        default: return nil
        }
    }
}

// MARK: - Building

extension JSON {
    static func str(_ s: String?) -> JSON { s.map(JSON.string) ?? .null }
    static func num(_ n: Int64?) -> JSON { n.map(JSON.int) ?? .null }
    static func num(_ n: Int) -> JSON { .int(Int64(n)) }
}

// MARK: - Serializing

extension JSON {
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    public func serializedString() -> String {
        String(decoding: serialized(), as: UTF8.self)
    }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: [110, 117, 108, 108])
        case let .bool(b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case let .int(i): out.append(contentsOf: Array(String(i).utf8))
        case let .double(d):
            if d.isFinite {
                if d.rounded() == d, abs(d) < 1e15 { out.append(contentsOf: Array(String(Int64(d)).utf8)) }
                else { out.append(contentsOf: Array(String(d).utf8)) }
            } else { out.append(contentsOf: [110, 117, 108, 108]) }
        case let .string(s): JSON.writeString(s, into: &out)
        case let .array(items):
            out.append(91)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(44) }
                item.write(into: &out)
            }
            out.append(93)
        case let .object(pairs):
            out.append(123)
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out.append(44) }
                JSON.writeString(k, into: &out)
                out.append(58)
                v.write(into: &out)
            }
            out.append(125)
        }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(34)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case 34: out.append(92); out.append(34)
            case 92: out.append(92); out.append(92)
            case 10: out.append(92); out.append(110)
            case 13: out.append(92); out.append(114)
            case 9: out.append(92); out.append(116)
            case 0..<32:
                out.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(34)
    }
}

// MARK: - Parsing

public struct JSONParseError: Error, Sendable {
    public let offset: Int
    public let reason: String
}

extension JSON {
    public static func parse(_ bytes: [UInt8]) throws -> JSON {
        var p = JSONParser(bytes: bytes)
        p.skipSpace()
        let v = try p.parseValue(depth: 0)
        p.skipSpace()
        if p.i != bytes.count { throw JSONParseError(offset: p.i, reason: "trailing characters") }
        return v
    }

    public static func parse(_ text: String) throws -> JSON { try parse(Array(text.utf8)) }
}

private struct JSONParser {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: i, reason: reason) }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 32 || bytes[i] == 10 || bytes[i] == 13 || bytes[i] == 9 { i += 1 }
    }

    mutating func expect(_ word: String) throws {
        for b in word.utf8 {
            guard i < bytes.count, bytes[i] == b else { throw fail("invalid literal") }
            i += 1
        }
    }

    mutating func parseValue(depth: Int) throws -> JSON {
        guard depth < 64 else { throw fail("nested too deeply") }
        guard i < bytes.count else { throw fail("unexpected end") }
        switch bytes[i] {
        case 123: return try parseObject(depth: depth)
        case 91: return try parseArray(depth: depth)
        case 34: return .string(try parseString())
        case 116: try expect("true"); return .bool(true)
        case 102: try expect("false"); return .bool(false)
        case 110: try expect("null"); return .null
        case 45, 48...57: return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    mutating func parseObject(depth: Int) throws -> JSON {
        i += 1
        var pairs: [(String, JSON)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == 125 { i += 1; return .object(pairs) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == 34 else { throw fail("expected key") }
            let key = try parseString()
            skipSpace()
            guard i < bytes.count, bytes[i] == 58 else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            let value = try parseValue(depth: depth + 1)
            if let idx = pairs.firstIndex(where: { $0.0 == key }) { pairs[idx].1 = value } else { pairs.append((key, value)) }
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            if bytes[i] == 44 { i += 1; continue }
            if bytes[i] == 125 { i += 1; return .object(pairs) }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws -> JSON {
        i += 1
        var items: [JSON] = []
        skipSpace()
        if i < bytes.count, bytes[i] == 93 { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try parseValue(depth: depth + 1))
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            if bytes[i] == 44 { i += 1; continue }
            if bytes[i] == 93 { i += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("bad \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw fail("bad \\u escape")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    mutating func parseString() throws -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == 34 {
                let s = String(decoding: bytes[start..<i], as: UTF8.self)
                i += 1
                return s
            }
            if b == 92 || b < 32 { break }
            i += 1
        }
        var out: [UInt8] = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            if b == 34 { i += 1; return String(decoding: out, as: UTF8.self) }
            if b < 32 { throw fail("control character in string") }
            if b != 92 { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case 34: out.append(34)
            case 92: out.append(92)
            case 47: out.append(47)
            case 98: out.append(8)
            case 102: out.append(12)
            case 110: out.append(10)
            case 114: out.append(13)
            case 116: out.append(9)
            case 117:
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 6 <= bytes.count, bytes[i] == 92, bytes[i + 1] == 117 else { throw fail("lone surrogate") }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw fail("bad surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw fail("lone surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("bad scalar") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("bad escape")
            }
        }
        throw fail("unterminated string")
    }

    mutating func parseNumber() throws -> JSON {
        let start = i
        var isInt = true
        if bytes[i] == 45 { i += 1 }
        guard i < bytes.count, bytes[i] >= 48 && bytes[i] <= 57 else { throw fail("bad number") }
        if bytes[i] == 48 { i += 1 } else { while i < bytes.count, bytes[i] >= 48 && bytes[i] <= 57 { i += 1 } }
        if i < bytes.count, bytes[i] == 46 {
            isInt = false
            i += 1
            guard i < bytes.count, bytes[i] >= 48 && bytes[i] <= 57 else { throw fail("bad number") }
            while i < bytes.count, bytes[i] >= 48 && bytes[i] <= 57 { i += 1 }
        }
        if i < bytes.count, bytes[i] == 101 || bytes[i] == 69 {
            isInt = false
            i += 1
            if i < bytes.count, bytes[i] == 43 || bytes[i] == 45 { i += 1 }
            guard i < bytes.count, bytes[i] >= 48 && bytes[i] <= 57 else { throw fail("bad number") }
            while i < bytes.count, bytes[i] >= 48 && bytes[i] <= 57 { i += 1 }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if isInt, let v = Int64(text) { return .int(v) }
        guard let d = Double(text) else { throw fail("bad number") }
        return .double(d)
    }
}
