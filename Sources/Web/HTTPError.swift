/// The one error a handler throws to answer with a status. Rendered at one boundary
/// as `{"message": …, "code": …}` (API) or an HTML page.
public struct HTTPError: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    public var headers: [String: String]

    public init(_ status: Int, code: String, message: String, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func badRequest(_ message: String, code: String = "INVALID_REQUEST") -> HTTPError {
        HTTPError(400, code: code, message: message)
    }
    public static func notFound(_ message: String = "요청한 리소스를 찾을 수 없습니다.", code: String = "NOT_FOUND") -> HTTPError {
        HTTPError(404, code: code, message: message)
    }
    public static func conflict(_ message: String, code: String) -> HTTPError { HTTPError(409, code: code, message: message) }
    public static let notAuthenticated = HTTPError(401, code: "NOT_AUTHENTICATED", message: "로그인이 필요합니다.")
    public static let csrfFailed = HTTPError(403, code: "CSRF_FAILED", message: "CSRF 토큰이 없거나 올바르지 않습니다.")
    public static let payloadTooLarge = HTTPError(413, code: "PAYLOAD_TOO_LARGE", message: "요청 본문이 너무 큽니다 (최대 64 KiB).")

    public var response: HTTPResponse {
        var response = HTTPResponse.json(.object(["message": .string(message), "code": .string(code)]), status: status)
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { response.addHeader(name, value) }
        return response
    }
}

/// A domain error that knows its HTTP meaning. Services throw these; the one error boundary turns them into an answer,
/// so no handler converts errors itself.
public protocol HTTPErrorConvertible: Error {
    var httpError: HTTPError { get }
}
