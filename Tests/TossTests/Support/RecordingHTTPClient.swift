import Foundation
@testable import Toss

/// An `HTTPClient` that records every request and answers from a script.
final class RecordingHTTPClient: HTTPClient, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [OutboundRequest] = []
    private let answer: @Sendable (OutboundRequest) -> Result<OutboundResponse, HTTPClientError>

    init(_ answer: @escaping @Sendable (OutboundRequest) -> Result<OutboundResponse, HTTPClientError>) {
        self.answer = answer
    }

    convenience init(status: Int, body: String) {
        self.init { _ in .success(OutboundResponse(status: status, body: Array(body.utf8))) }
    }

    convenience init(failure: HTTPClientError) {
        self.init { _ in .failure(failure) }
    }

    var requests: [OutboundRequest] { lock.withLock { recorded } }
    var lastRequest: OutboundRequest? { requests.last }

    func send(_ request: OutboundRequest) throws(HTTPClientError) -> OutboundResponse {
        lock.withLock { recorded.append(request) }
        return try answer(request).get()
    }
}

extension OutboundRequest {
    var jsonBody: [String: Any]? {
        guard let body else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}
