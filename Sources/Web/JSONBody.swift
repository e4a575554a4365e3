/// Reads a JSON request body field by field, answering 400 with the field's name on the first problem.
public struct JSONBody: Sendable {
    public let object: JSONObject

    public init(_ request: HTTPRequest) throws(HTTPError) {
        guard !request.body.isEmpty else { throw HTTPError.badRequest("요청 본문(JSON)이 필요합니다.", code: "INVALID_JSON") }
        let value: JSON
        do { value = try JSON.parse(request.body) } catch {
            throw HTTPError.badRequest("JSON 형식이 올바르지 않습니다: \(error.message) (offset \(error.offset)).", code: "INVALID_JSON")
        }
        guard case .object(let object) = value else { throw HTTPError.badRequest("JSON 객체가 필요합니다.", code: "INVALID_JSON") }
        self.object = object
    }

    public init(object: JSONObject) { self.object = object }

    public func string(_ field: String) throws(HTTPError) -> String {
        guard let value = object[field], !value.isNull else { throw missing(field) }
        guard case .string(let s) = value else { throw wrongType(field, "문자열") }
        return s
    }

    public func optionalString(_ field: String) throws(HTTPError) -> String? {
        guard let value = object[field], !value.isNull else { return nil }
        guard case .string(let s) = value else { throw wrongType(field, "문자열") }
        return s
    }

    public func optionalBool(_ field: String) throws(HTTPError) -> Bool? {
        guard let value = object[field], !value.isNull else { return nil }
        guard case .bool(let b) = value else { throw wrongType(field, "true 또는 false") }
        return b
    }

    public func int(_ field: String) throws(HTTPError) -> Int {
        guard let value = object[field], !value.isNull else { throw missing(field) }
        guard case .int(let i) = value else { throw wrongType(field, "정수") }
        return i
    }

    public func optionalInt(_ field: String) throws(HTTPError) -> Int? {
        guard let value = object[field], !value.isNull else { return nil }
        guard case .int(let i) = value else { throw wrongType(field, "정수") }
        return i
    }

    /// An integer given as a JSON number or as a string of digits (the redirect's query value, forwarded as-is).
    public func integerOrDigits(_ field: String) throws(HTTPError) -> Int {
        guard let value = object[field], !value.isNull else { throw missing(field) }
        switch value {
        case .int(let i): return i
        case .string(let s) where !s.isEmpty && s.utf8.count <= 18 && s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }):
            guard let number = Int(s) else { throw wrongType(field, "정수 또는 숫자 문자열") }
            return number
        default: throw wrongType(field, "정수 또는 숫자 문자열")
        }
    }

    private func missing(_ field: String) -> HTTPError {
        HTTPError.badRequest("필수 항목 '\(field)'이(가) 없습니다.", code: "MISSING_FIELD")
    }

    private func wrongType(_ field: String, _ expected: String) -> HTTPError {
        HTTPError.badRequest("'\(field)'은(는) \(expected)이어야 합니다.", code: "INVALID_FIELD")
    }
}
