import Foundation
import TossSandbox
#if canImport(Glibc)
import Glibc
#endif

// Two ways to run the Toss sandbox for the tests:
// - `InProcessSandbox`: the TossSandbox module's own `HTTPServer` + `SandboxApp`, bound to 127.0.0.1:0
//   and served on a background thread of the test process. Fast and needs no executable. The server
//   has no stop, so every instance lives until the test process exits; the suites share one.
// - `SandboxProcess`: the built `toss-sandbox` executable, started with `--listen 127.0.0.1:0`, its
//   port read from the `toss-sandbox listening on http://HOST:PORT` line, stopped with SIGTERM.
//
// Only this file imports TossSandbox (its `TossError` would clash with `Toss.TossError`).

/// A sandbox served from a background thread of the test process.
final class InProcessSandbox: @unchecked Sendable {
    let port: Int
    let baseURL: String

    /// Lets the server exist before the app, whose public URL depends on the chosen port.
    private final class AppBox: @unchecked Sendable {
        var app: SandboxApp?
    }

    /// A new sandbox on a free port (any `test_sk_…` key is accepted unless `secretKey` is given).
    init(secretKey: String? = nil, latencyMs: Int = 0) throws {
        let box = AppBox()
        let server = HTTPServer { request in
            guard let app = box.app else { return .respond(HTTPResponse(status: 503)) }
            return app.handle(request)
        }
        try server.bind(host: "127.0.0.1", port: 0)
        port = server.port
        baseURL = "http://127.0.0.1:\(port)"
        var config = SandboxConfig(secretKey: secretKey, latencyMs: latencyMs, publicURL: baseURL)
        config.mId = "gudok_sandbox"
        // Set before the serving thread starts, so that thread sees it.
        box.app = SandboxApp(config: config)
        let thread = Thread { server.serveForever() }
        thread.name = "toss-sandbox :\(port)"
        thread.start()
    }

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedInstance: InProcessSandbox?

    /// The one sandbox the suites share; reset it (`POST /sandbox/reset`) before each test.
    static func shared() throws -> InProcessSandbox {
        try sharedLock.withLock {
            if let sharedInstance { return sharedInstance }
            let sandbox = try InProcessSandbox()
            sharedInstance = sandbox
            return sandbox
        }
    }
}

/// The `toss-sandbox` executable as a child process.
final class SandboxProcess {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let process = Process()
    /// e.g. `http://127.0.0.1:40123`, from the line the sandbox prints once listening.
    private(set) var baseURL = ""
    /// The exact first stdout line.
    private(set) var listeningLine = ""
    private let stdout = Pipe()
    private let stderr = Pipe()

    /// The `toss-sandbox` built next to the test bundle (`<scratch>/debug/toss-sandbox`), if any.
    /// `TOSS_SANDBOX_EXECUTABLE` overrides the search.
    static func executableURL() -> URL? {
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["TOSS_SANDBOX_EXECUTABLE"], !explicit.isEmpty {
            candidates.append(URL(fileURLWithPath: explicit))
        }
        // On Linux the test bundle is `<scratch>/debug/gudokPackageTests.xctest`, an executable.
        for path in [Bundle.main.executablePath, Bundle.main.bundlePath, CommandLine.arguments.first].compactMap({ $0 }) {
            var url = URL(fileURLWithPath: path)
            for _ in 0..<4 {
                url = url.deletingLastPathComponent()
                candidates.append(url.appendingPathComponent("toss-sandbox"))
            }
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent()
                .appendingPathComponent("toss-sandbox"))
        }
        // Last resort: the scratch paths of this repository (Tests/TossTests/<this file>).
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for scratch in [".build-tosstests", ".build"] {
            candidates.append(repo.appendingPathComponent("\(scratch)/debug/toss-sandbox"))
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) && !$0.hasDirectoryPath }
    }

    /// Starts `toss-sandbox --listen 127.0.0.1:0 <arguments>` and waits for its listening line.
    init(executable: URL, arguments: [String] = [], timeout: Double = 20) throws {
        process.executableURL = executable
        process.arguments = ["--listen", "127.0.0.1:0"] + arguments
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        guard let line = Self.readLine(stdout.fileHandleForReading.fileDescriptor, timeout: timeout) else {
            stop()
            throw Failure(description: "toss-sandbox printed no listening line within \(timeout) s")
        }
        listeningLine = line
        let prefix = "toss-sandbox listening on "
        guard line.hasPrefix(prefix) else {
            stop()
            throw Failure(description: "unexpected first line from toss-sandbox: \(line)")
        }
        baseURL = String(line.dropFirst(prefix.count))
    }

    /// Runs the executable to completion (for argument errors): exit status and stderr.
    static func runToExit(executable: URL, arguments: [String], environment: [String: String]? = nil,
                          timeout: Double = 20) throws -> (Int32, String) {
        let process = Process()
        let errors = Pipe()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardOutput = Pipe()
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw Failure(description: "toss-sandbox \(arguments) did not exit within \(timeout) s")
        }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }

    /// SIGTERM, then the exit status (the sandbox exits 0 on SIGTERM).
    @discardableResult
    func stop(timeout: Double = 10) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { stop() }
    }

    /// Reads up to the first newline, byte by byte (the process may print nothing else).
    private static func readLine(_ fd: Int32, timeout: Double) -> String? {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0 && errno != EINTR { return nil }
            guard ready > 0 else { continue }
            var byte: UInt8 = 0
            let count = read(fd, &byte, 1)
            if count == 0 { return nil }
            if count < 0 { if errno == EINTR { continue }; return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }
}
