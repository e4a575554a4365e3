/// The outbound HTTP transport the Toss client talks through; a protocol so tests and other transports can stand in.
public protocol HTTPClient: Sendable {
    /// Performs one request. Any HTTP status is a response; only transport failures throw.
    func send(_ request: OutboundRequest) throws(HTTPClientError) -> OutboundResponse
}

public struct OutboundRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// Whole-request limit in seconds, connect included.
    public var timeout: Double
    public var connectTimeout: Double

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                timeout: Double, connectTimeout: Double) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// Shows neither the URL (a billing key may be in its path) nor header values (Authorization).
extension OutboundRequest: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "OutboundRequest(\(method), headers: \(headers.map(\.0)), body: \(body?.count ?? 0) bytes)"
    }
    public var debugDescription: String { description }
}

public struct OutboundResponse: Sendable, Equatable {
    public var status: Int
    /// Names are lowercased; repeated headers are joined with ", ".
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

public enum HTTPClientError: Error, Sendable, Equatable {
    /// Nothing was sent (no route, refused, DNS, TLS handshake, or the connect timeout): safe to retry.
    case couldNotConnect(String)
    /// The time limit passed. With `afterSending` the server may have acted on the request.
    case timedOut(afterSending: Bool)
    /// The connection broke (reset, closed, empty or cut-off reply). With `afterSending` the server may have acted.
    case connectionLost(afterSending: Bool)
    /// A local problem before anything was sent: bad URL, unsupported protocol, certificate verification, setup.
    case other(String)
}
