import Foundation

/// Turning transport failures and non-2xx answers into `TossError`s. Messages name the operation
/// ("billing charge") but never the URL, headers or body: a billing key travels in the path, the
/// secret key in a header, and a proxy's error page may echo either.
extension TossError {
    init(transport error: HTTPClientError, operation: String, timeout: Double) {
        switch error {
        case .couldNotConnect(let detail):
            self.init(code: Kind.unreachableCode, message: "\(operation): could not connect to Toss (\(detail))",
                      httpStatus: nil)
        case .timedOut(afterSending: true):
            self.init(code: Kind.timeoutCode,
                      message: "\(operation): no answer from Toss within \(Self.seconds(timeout)) after sending; outcome unknown",
                      httpStatus: nil)
        case .timedOut(afterSending: false):
            self.init(code: Kind.unreachableCode,
                      message: "\(operation): timed out before the request was sent", httpStatus: nil)
        case .connectionLost(afterSending: true):
            self.init(code: Kind.connectionLostCode,
                      message: "\(operation): connection to Toss lost after sending; outcome unknown", httpStatus: nil)
        case .connectionLost(afterSending: false):
            self.init(code: Kind.unreachableCode,
                      message: "\(operation): connection to Toss lost before the request was sent", httpStatus: nil)
        case .other(let detail):
            self.init(code: Kind.clientErrorCode, message: "\(operation): \(detail)", httpStatus: nil)
        }
    }

    /// A non-2xx answer. Toss sends `{"code","message"}`; newer APIs nest it under `"error"`.
    init(status: Int, body: [UInt8], operation: String) {
        let object = JSONFields(json: body)
        let fields = object?.object("error") ?? object
        if let code = fields?.string("code"), !code.isEmpty {
            let message = fields?.string("message") ?? "HTTP \(status) from Toss"
            self.init(code: code, message: message, httpStatus: status)
        } else {
            self.init(code: "HTTP_\(status)",
                      message: "\(operation): HTTP \(status) from Toss without an error code (\(body.count)-byte body)",
                      httpStatus: status)
        }
    }

    /// A 2xx answer we could not read. The call may well have succeeded, so the caller must look it up.
    static func unreadable(_ what: String, status: Int, operation: String) -> TossError {
        TossError(code: Kind.invalidResponseCode,
                  message: "\(operation): HTTP \(status) from Toss but the body is not a readable \(what)",
                  httpStatus: status)
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
