import Foundation
import JSON

/// Tolerant reads from a decoded JSON object: unknown fields are ignored, `null` is absent, and numbers
/// may arrive as JSON numbers or numeric strings (the official samples send `"amount":"50000"`).
struct JSONFields {
    let object: JSONObject

    init(_ object: JSONObject) {
        self.object = object
    }

    init?(json: [UInt8]) {
        guard !json.isEmpty, let value = try? JSON.parse(json), case .object(let object) = value else { return nil }
        self.init(object)
    }

    func string(_ key: String) -> String? {
        switch object[key] {
        case .string(let value)?: return value
        case .int(let value)?: return String(value)
        case .double(let value)?: return Self.integral(value).map(String.init) ?? String(value)
        default: return nil
        }
    }

    func int(_ key: String) -> Int? {
        switch object[key] {
        case .string(let value)?:
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if let integer = Int(trimmed) { return integer }
            if let real = Double(trimmed) { return Self.integral(real) }
            return nil
        case .int(let value)?:
            return value
        case .double(let value)?:
            return Self.integral(value)
        default:
            return nil
        }
    }

    func object(_ key: String) -> JSONFields? {
        object[key]?.objectValue.map(JSONFields.init)
    }

    func objects(_ key: String) -> [JSONFields] {
        object[key]?.arrayValue?.compactMap { $0.objectValue.map(JSONFields.init) } ?? []
    }

    private static func integral(_ value: Double) -> Int? {
        guard value.isFinite, value == value.rounded(), abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }
}
