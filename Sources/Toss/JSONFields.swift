import Foundation

/// Tolerant reads from a decoded JSON object: unknown fields are ignored, `null` is absent, and numbers
/// may arrive as JSON numbers or numeric strings (the official samples send `"amount":"50000"`).
struct JSONFields {
    let dictionary: [String: Any]

    init(_ dictionary: [String: Any]) {
        self.dictionary = dictionary
    }

    init?(json: [UInt8]) {
        guard !json.isEmpty,
              let value = try? JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed]),
              let dictionary = value as? [String: Any]
        else { return nil }
        self.init(dictionary)
    }

    func string(_ key: String) -> String? {
        switch dictionary[key] {
        case let value as String: return value
        case let value as Int: return String(value)
        case let value as NSNumber: return value.stringValue
        default: return nil
        }
    }

    func int(_ key: String) -> Int? {
        switch dictionary[key] {
        case let value as String:
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if let integer = Int(trimmed) { return integer }
            if let real = Double(trimmed) { return Self.integral(real) }
            return nil
        case let value as Int:
            return value
        case let value as Double:
            return Self.integral(value)
        case let value as NSNumber:
            return Self.integral(value.doubleValue)
        default:
            return nil
        }
    }

    func object(_ key: String) -> JSONFields? {
        (dictionary[key] as? [String: Any]).map(JSONFields.init)
    }

    func objects(_ key: String) -> [JSONFields] {
        (dictionary[key] as? [Any])?.compactMap { ($0 as? [String: Any]).map(JSONFields.init) } ?? []
    }

    private static func integral(_ value: Double) -> Int? {
        guard value.isFinite, value == value.rounded(), abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }
}
