/// `HTTPClient` over libcurl. Safe to call from many threads at once: each call borrows an easy
/// handle from a locked pool, so TCP/TLS connections are reused across calls; at most
/// `maxIdleHandles` handles (and their connections) are kept between calls.
public final class CurlHTTPClient: HTTPClient {
    private let pool: CurlHandlePool

    public init(maxIdleHandles: Int = 64) {
        CurlGlobal.initializeOnce()
        pool = CurlHandlePool(maxIdle: maxIdleHandles)
    }

    public func send(_ request: OutboundRequest) throws(HTTPClientError) -> OutboundResponse {
        let handle = try pool.borrow()
        defer { pool.giveBack(handle) }
        return try handle.perform(request)
    }
}
