import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The built `gudok` executable, next to the test bundle (`swift build --build-tests` builds every product), or
/// `GUDOK_BINARY` when set.
enum GudokBinary {
    static func url() throws -> URL {
        if let given = ProcessInfo.processInfo.environment["GUDOK_BINARY"], !given.isEmpty { return URL(fileURLWithPath: given) }
        let runner = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: runner).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("gudok")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        throw FastCGIClientError(description: "cannot find the gudok executable near \(runner); run `swift build --build-tests` or set GUDOK_BINARY")
    }
}

/// A `gudok` process the test started.
final class GudokProcess {
    let process: Process
    let name: String
    private let stdoutURL: URL
    private let stderrURL: URL

    init(_ arguments: [String], in sandbox: GudokSandbox, name: String, stdin: String? = nil) throws {
        self.name = name
        stdoutURL = sandbox.directory.appendingPathComponent("\(name).stdout")
        stderrURL = sandbox.directory.appendingPathComponent("\(name).stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process = Process()
        process.executableURL = try GudokBinary.url()
        process.arguments = arguments
        process.environment = sandbox.environment
        process.currentDirectoryURL = sandbox.directory
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        if let stdin {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            pipe.fileHandleForWriting.write(Data(stdin.utf8))
            try pipe.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    func send(_ signal: Int32) { if process.isRunning { kill(pid, signal) } }

    /// The exit status once the process ended within `timeout`, or nil. A death by signal answers 128 + the signal.
    func waitForExit(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            usleep(10_000)
        }
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }

    /// Makes sure the process is gone (SIGKILL after a grace period) — only this test's own process.
    func reap() {
        guard process.isRunning else { return }
        send(SIGTERM)
        if waitForExit(timeout: 5) == nil {
            send(SIGKILL)
            _ = waitForExit(timeout: 5)
        }
    }

    deinit { reap() }
}

/// A private working directory, database and environment for gudok processes.
final class GudokSandbox {
    let directory: URL
    let socketPath: String
    var environment: [String: String]

    init() throws {
        directory = try makeShortTemporaryDirectory()
        socketPath = directory.appendingPathComponent("g.sock").path
        environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": directory.path,
            "GUDOK_ENV": "development",
            "GUDOK_SECRET_KEY": "fastcgi-tests-secret-key-0123456789abcdefghij",
            "DATABASE_URL": "sqlite://" + directory.appendingPathComponent("db.sqlite3").path,
            "TOSS_BASE_URL": "http://127.0.0.1:9/v1",
            "GUDOK_LOG_LEVEL": "error",
        ]
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    var address: ListenAddressForTests { .unix(socketPath) }

    /// Runs a short command to its end.
    @discardableResult
    func run(_ arguments: [String], name: String, timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line) throws -> GudokProcess {
        let process = try GudokProcess(arguments, in: self, name: name)
        let status = process.waitForExit(timeout: timeout)
        XCTAssertEqual(status, 0, "gudok \(arguments.joined(separator: " ")) failed: \(process.stderr)", file: file, line: line)
        return process
    }

    func migrate() throws { try run(["migrate"], name: "migrate-\(UUID().uuidString.prefix(6))") }

    /// `gudok serve` on this sandbox's socket, answering once the socket accepts connections.
    func serve(threads: Int = 8, name: String = "serve", file: StaticString = #filePath, line: UInt = #line) throws -> GudokProcess {
        let server = try GudokProcess(["serve", "--fastcgi", "unix:\(socketPath)", "--threads", String(threads)], in: self, name: name)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !server.isRunning {
                throw FastCGIClientError(description: "gudok serve exited with \(server.waitForExit(timeout: 1) ?? -1): \(server.stderr)")
            }
            if FileManager.default.fileExists(atPath: socketPath), (try? FastCGIConnection(address: address)) != nil { return server }
            usleep(20_000)
        }
        server.reap()
        throw FastCGIClientError(description: "gudok serve did not open \(socketPath) within 20 s: \(server.stderr)")
    }
}
