import Crypto
import Foundation
import XCTest
@testable import FastCGI
import Web
#if canImport(Glibc)
import Glibc
#endif

/// A `FastCGIServer` running on a background thread of the test process. `run()` waits in `sigwait` on that thread with
/// SIGTERM blocked there (and in the workers it spawns), so `stop()` delivers SIGTERM to that one thread with
/// `pthread_kill`; the rest of the test process never sees the signal.
final class InProcessServer: @unchecked Sendable {
    let address: ListenAddressForTests
    let directory: URL?
    private let lock = NSLock()
    private var serverThread: pthread_t?
    private var failure: Error?
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var stopped = false

    init(unixSocket: Bool = true, threads: Int = 8, responder: @escaping Responder) throws {
        let listen: ListenAddress
        if unixSocket {
            let directory = try makeShortTemporaryDirectory()
            self.directory = directory
            let path = directory.appendingPathComponent("f.sock").path
            listen = .unix(path: path)
            address = .unix(path)
        } else {
            directory = nil
            let port = try freeLoopbackPort()
            listen = .tcp(host: "127.0.0.1", port: port)
            address = .tcp(port)
        }
        let server = FastCGIServer(address: listen, threads: threads, responder: responder)
        let thread = Thread { [self] in
            lock.lock()
            serverThread = pthread_self()
            lock.unlock()
            do {
                try server.run(onReady: { self.ready.signal() })
            } catch {
                lock.lock()
                failure = error
                lock.unlock()
                ready.signal()
            }
            finished.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        guard ready.wait(timeout: .now() + 10) == .success else { throw FastCGIClientError(description: "in-process server did not start") }
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
    }

    /// SIGTERM to the server thread; waits for `run()` to return (it drains requests in flight first).
    @discardableResult
    func stop(timeout: TimeInterval = 40) -> Bool {
        lock.lock()
        let thread = serverThread
        let already = stopped
        stopped = true
        lock.unlock()
        guard !already, let thread else { return true }
        pthread_kill(thread, SIGTERM)
        return finished.wait(timeout: .now() + timeout) == .success
    }

    deinit {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }
}

/// Answers with everything the responder saw, so tests can check what FastCGI handed over.
/// `/slow?ms=N` sleeps first; `/big?bytes=N` answers N bytes.
let echoResponder: Responder = { request in
    if request.path == "/slow", let ms = request.query["ms"].flatMap(Int.init) { usleep(UInt32(ms) * 1000) }
    if request.path == "/big", let count = request.query["bytes"].flatMap(Int.init) {
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream")],
                            body: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
    }
    let headers = JSONObject(request.headers.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })
    let query = JSON.array(request.query.pairs.map { JSON.array([.string($0.0), .string($0.1)]) })
    var response = HTTPResponse.json([
        "method": .string(request.method), "path": .string(request.path), "query": query, "headers": .object(headers),
        "body_length": .int(request.body.count), "body_sha256": .string(Crypto.hex(Crypto.sha256(request.body))),
        "remote_address": .string(request.remoteAddress), "https": .bool(request.isHTTPS), "host": .string(request.host),
        "origin": .string(request.origin), "request_id": .string(request.requestID),
    ])
    response.addHeader("X-Echo", "1")
    return response
}
