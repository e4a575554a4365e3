import CFastCGI
import Foundation
import Web
#if canImport(Glibc)
import Glibc
#endif

public typealias Responder = @Sendable (HTTPRequest) -> HTTPResponse

/// A thread-per-request FastCGI responder over libfcgi: N threads, each with its own `FCGX_Request`,
/// accepting on one socket without a mutex (Linux wakes one accepter at a time).
public final class FastCGIServer: @unchecked Sendable {
    public static let maxBodyBytes = 64 * 1024

    private let address: ListenAddress
    private let threadCount: Int
    private let responder: Responder
    private let unixSocketMode: mode_t
    private var listenFD: Int32 = -1
    private let state = ServerState()

    public init(address: ListenAddress, threads: Int, unixSocketMode: mode_t = 0o666, responder: @escaping Responder) {
        self.address = address
        self.threadCount = max(1, threads)
        self.unixSocketMode = unixSocketMode
        self.responder = responder
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish, and returns.
    public func run(onReady: () -> Void = {}) throws {
        Signals.blockTermination()
        listenFD = try ListeningSocket.open(address, unixSocketMode: unixSocketMode)
        guard FCGX_Init() == 0 else { throw SocketError(description: "FCGX_Init failed") }
        for _ in 0..<threadCount { spawnWorker() }
        onReady()
        _ = Signals.waitForTermination()
        state.beginStopping()
        shutdown(listenFD, Int32(SHUT_RDWR))
        state.waitUntilIdle(timeout: 30)
        close(listenFD)
        if case .unix(let path) = address { unlink(path) }
    }

    private func spawnWorker() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 1 << 20)
        let created = pthread_create(&thread, &attributes, { raw in
            let server = Unmanaged<FastCGIServer>.fromOpaque(raw!).takeRetainedValue()
            server.workerLoop()
            return nil
        }, context)
        pthread_attr_destroy(&attributes)
        precondition(created == 0, "pthread_create failed: \(created)")
        pthread_detach(thread)
    }

    private func workerLoop() {
        var request = FCGX_Request()
        FCGX_InitRequest(&request, listenFD, 0)
        while !state.isStopping {
            // A failed accept is one bad connection (a malformed record, a peer that hung up): keep serving.
            guard FCGX_Accept_r(&request) == 0 else {
                if state.isStopping { break }
                usleep(1000)
                continue
            }
            state.requestStarted()
            handle(&request)
            FCGX_Finish_r(&request)
            state.requestFinished()
        }
    }

    private func handle(_ raw: inout FCGX_Request) {
        let params = FastCGIParams(environment: raw.envp)
        var request = params.httpRequest()
        let response: HTTPResponse
        if let length = params.contentLength, length > FastCGIServer.maxBodyBytes {
            response = HTTPError.payloadTooLarge.response
        } else if let body = readBody(raw.in, expected: params.contentLength) {
            request.body = body
            response = responder(request)
        } else {
            response = HTTPError.payloadTooLarge.response
        }
        write(response, to: raw.out, includeBody: request.method != "HEAD")
    }

    /// Reads the body up to CONTENT_LENGTH (or EOF); nil when it exceeds the cap.
    private func readBody(_ stream: UnsafeMutablePointer<FCGX_Stream>?, expected: Int?) -> [UInt8]? {
        if expected == 0 { return [] }
        let limit = FastCGIServer.maxBodyBytes
        var body: [UInt8] = []
        var chunk = [CChar](repeating: 0, count: 16 * 1024)
        while body.count <= limit {
            let wanted = Int32(min(chunk.count, (expected ?? limit + 1) - body.count))
            if wanted <= 0 { break }
            let got = FCGX_GetStr(&chunk, wanted, stream)
            if got <= 0 { break }
            chunk.withUnsafeBytes { body.append(contentsOf: $0.prefix(Int(got))) }
        }
        return body.count > limit ? nil : body
    }

    private func write(_ response: HTTPResponse, to stream: UnsafeMutablePointer<FCGX_Stream>?, includeBody: Bool) {
        var head = "Status: \(response.status) \(HTTPResponse.reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        if response.header("Content-Length") == nil { head += "Content-Length: \(response.body.count)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if includeBody { bytes.append(contentsOf: response.body) }
        bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                _ = FCGX_PutStr($0, Int32(buffer.count), stream)
            }
        }
    }
}

/// Counts requests in flight so a stop can wait for them.
final class ServerState: @unchecked Sendable {
    private let condition = NSCondition()
    private var inFlight = 0
    private var stopping = false

    var isStopping: Bool { condition.lock(); defer { condition.unlock() }; return stopping }

    func beginStopping() { condition.lock(); stopping = true; condition.unlock() }

    func requestStarted() { condition.lock(); inFlight += 1; condition.unlock() }

    func requestFinished() {
        condition.lock()
        inFlight -= 1
        if inFlight == 0 { condition.broadcast() }
        condition.unlock()
    }

    func waitUntilIdle(timeout: TimeInterval) {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        while inFlight > 0 && condition.wait(until: deadline) {}
        condition.unlock()
    }
}
