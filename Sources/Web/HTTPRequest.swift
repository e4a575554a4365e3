/// A request as the responder received it, independent of FastCGI.
public struct HTTPRequest: Sendable {
    public var method: String
    /// Percent-decoded path without the query string, e.g. `/api/subscriptions/plans`.
    public var path: String
    public var query: QueryParameters
    /// Header names are lower-cased with dashes: `content-type`, `x-csrftoken`.
    public var headers: [String: String]
    public var body: [UInt8]
    public var remoteAddress: String
    public var isHTTPS: Bool
    public var host: String
    public var requestID: String
    /// Filled by the router: values of `{name}` segments.
    public var pathParameters: [String: String] = [:]

    public init(method: String, path: String, query: QueryParameters = QueryParameters(), headers: [String: String] = [:],
                body: [UInt8] = [], remoteAddress: String = "127.0.0.1", isHTTPS: Bool = false, host: String = "localhost",
                requestID: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.isHTTPS = isHTTPS
        self.host = host
        self.requestID = requestID
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    public var cookies: [String: String] { Cookies.parse(header("cookie") ?? "") }

    public var contentType: String {
        (header("content-type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// Form fields of an `application/x-www-form-urlencoded` body.
    public var form: QueryParameters {
        contentType == "application/x-www-form-urlencoded" ? QueryParameters(parsing: String(decoding: body, as: UTF8.self)) : QueryParameters()
    }

    /// The origin the browser used, e.g. `https://localhost:8443`.
    public var origin: String { (isHTTPS ? "https://" : "http://") + host }

    public var acceptsHTML: Bool { (header("accept") ?? "").contains("text/html") }

    public var isSafeMethod: Bool { method == "GET" || method == "HEAD" || method == "OPTIONS" }
}

import Foundation
