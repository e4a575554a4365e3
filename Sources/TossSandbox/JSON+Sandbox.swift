import JSON

/// The sandbox speaks the project's JSON, with the few shapes Toss's wire format needs.
extension JSON {
    /// An object with its keys in the order given: the sandbox answers in Toss's own key order.
    static func fields(_ pairs: [(String, JSON)]) -> JSON { .object(JSONObject(pairs)) }

    /// Amounts are kept as Int64 in the sandbox's records.
    static func int64(_ value: Int64) -> JSON { .int(Int(value)) }

    static func str(_ s: String?) -> JSON { s.map(JSON.string) ?? .null }
    static func num(_ n: Int64?) -> JSON { n.map { .int(Int($0)) } ?? .null }
    static func num(_ n: Int) -> JSON { .int(n) }

    func serialized() -> [UInt8] { serializedBytes() }

    /// An integral number, or a string made only of digits (Toss's samples forward the redirect's `amount` query value as a
    /// JSON string).
    var integerAmount: Int64? {
        switch self {
        case let .int(v): return Int64(v)
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
