import Foundation

/// Idle easy handles, most recently used first, so a thread that calls again gets back
/// the handle (and the warm connection) it just used.
final class CurlHandlePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [CurlEasyHandle] = []
    private let maxIdle: Int

    init(maxIdle: Int) {
        self.maxIdle = maxIdle
    }

    func borrow() throws(HTTPClientError) -> CurlEasyHandle {
        lock.lock()
        let handle = idle.popLast()
        lock.unlock()
        if let handle { return handle }
        return try CurlEasyHandle()
    }

    func giveBack(_ handle: CurlEasyHandle) {
        lock.lock()
        defer { lock.unlock() }
        if idle.count < maxIdle { idle.append(handle) }
    }
}
