/// A Toss request body: a flat JSON object of strings and integers, written with sorted keys (as JSONSerialization's
/// `.sortedKeys` did) without Foundation's dictionary bridging on every charge.
struct RequestBody: ExpressibleByDictionaryLiteral {
    enum Value {
        case string(String)
        case int(Int)
    }

    private(set) var fields: [String: Value] = [:]

    init(dictionaryLiteral elements: (String, Value)...) {
        for (key, value) in elements { fields[key] = value }
    }

    subscript(key: String) -> Value? {
        get { fields[key] }
        set { fields[key] = newValue }
    }

    var bytes: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            RequestBody.writeString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch fields[key]! {
            case .string(let text): RequestBody.writeString(text, to: &out)
            case .int(let number): out.append(contentsOf: String(number).utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0x00..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension RequestBody.Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
}
