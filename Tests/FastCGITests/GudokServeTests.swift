import Foundation
import XCTest
import Web
#if canImport(Glibc)
import Glibc
#endif

/// The real `gudok serve` process, driven over its unix socket by the test's FastCGI client.
final class GudokServeTests: XCTestCase {
    private var sandbox: GudokSandbox!
    private var server: GudokProcess?

    override func setUpWithError() throws {
        sandbox = try GudokSandbox()
        try sandbox.migrate()
    }

    override func tearDown() {
        server?.reap()
        server = nil
        sandbox = nil
    }

    private func startServer(threads: Int = 8) throws -> GudokProcess {
        let started = try sandbox.serve(threads: threads)
        server = started
        return started
    }

    func testHealthzThroughFastCGI() throws {
        _ = try startServer()
        let response = try FastCGIClient.get(sandbox.address, "/healthz")
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.json, ["status": "ok"], response.text)
        XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
    }

    func testUnknownRouteIs404JSON() throws {
        _ = try startServer()
        let response = try FastCGIClient.get(sandbox.address, "/api/no-such-route")
        XCTAssertEqual(response.status, 404, response.text)
        XCTAssertEqual(response.json?["code"], "NOT_FOUND", response.text)
        XCTAssertNotNil(response.json?["message"]?.stringValue, response.text)
    }

    func testWrongMethodIs405JSONWithAllow() throws {
        _ = try startServer()
        let response = try FastCGIClient.send(sandbox.address, params: FastCGIWire.nginxParams(method: "DELETE", uri: "/healthz"))
        XCTAssertEqual(response.status, 405, response.text)
        XCTAssertEqual(response.json?["code"], "METHOD_NOT_ALLOWED", response.text)
        XCTAssertEqual(response.header("Allow"), "GET")
    }

    func testOversizeBodyIs413JSON() throws {
        _ = try startServer()
        let body = Array(("{\"username\":\"" + String(repeating: "a", count: 100 * 1024) + "\"}").utf8)
        let params = FastCGIWire.nginxParams(method: "POST", uri: "/api/auth/login", bodyLength: body.count, contentType: "application/json")
        let response = try FastCGIClient.send(sandbox.address, params: params, body: body)
        XCTAssertEqual(response.status, 413, response.text)
        XCTAssertEqual(response.json?["code"], "PAYLOAD_TOO_LARGE", response.text)
        XCTAssertEqual(try FastCGIClient.get(sandbox.address, "/healthz").status, 200, "the responder keeps serving")
    }

    func testHTTPSParamMakesCookiesSecure() throws {
        _ = try startServer()
        let secure = try FastCGIClient.send(sandbox.address, params: FastCGIWire.nginxParams(uri: "/api/auth/csrf", https: true))
        XCTAssertEqual(secure.status, 200, secure.text)
        let secureCookie = secure.headers.first { $0.0 == "Set-Cookie" && $0.1.hasPrefix("csrftoken=") }?.1 ?? ""
        XCTAssertTrue(secureCookie.contains("; Secure"), "over HTTPS: \(secureCookie)")
        let plain = try FastCGIClient.get(sandbox.address, "/api/auth/csrf")
        let plainCookie = plain.headers.first { $0.0 == "Set-Cookie" && $0.1.hasPrefix("csrftoken=") }?.1 ?? ""
        XCTAssertFalse(plainCookie.isEmpty, "a csrftoken cookie is set: \(plain.headers)")
        XCTAssertFalse(plainCookie.contains("Secure"), "over plain HTTP: \(plainCookie)")
    }

    func testSixtyFourConcurrentRequestsAreAllAnswered() throws {
        _ = try startServer(threads: 16)
        let statuses = Locked<[Int]>([])
        let failures = Locked<[String]>([])
        runConcurrently(64) { [address = sandbox.address] index in
            do {
                let response = try FastCGIClient.get(address, index % 2 == 0 ? "/healthz" : "/api/subscriptions/plans")
                statuses.withValue { $0.append(response.status) }
            } catch {
                failures.withValue { $0.append("request \(index): \(error)") }
            }
        }
        XCTAssertEqual(failures.current, [])
        XCTAssertEqual(statuses.current.count, 64)
        XCTAssertEqual(Set(statuses.current), [200], "statuses: \(statuses.current)")
    }

    func testSIGTERMDuringASlowRequestFinishesItThenExitsZero() throws {
        let running = try startServer(threads: 4)
        let connection = try FastCGIConnection(address: sandbox.address)
        // The body arrives in two halves; between them the request is in flight inside the responder.
        try connection.send(FastCGIWire.beginRequest() + FastCGIWire.params(FastCGIWire.nginxParams(uri: "/healthz", bodyLength: 10))
            + FastCGIWire.record(.stdin, content: Array("01234".utf8)))
        usleep(300_000)
        running.send(SIGTERM)
        usleep(300_000)
        XCTAssertTrue(running.isRunning, "gudok serve exited with a request in flight: \(running.stderr)")
        XCTAssertThrowsError(try FastCGIConnection(address: sandbox.address), "a stopping responder must not accept new connections")
        try connection.send(FastCGIWire.record(.stdin, content: Array("56789".utf8)) + FastCGIWire.record(.stdin))
        let response = try connection.readResponse()
        // Like nginx, hang up after END_REQUEST (libfcgi lingers up to 2 s for the client's EOF before closing).
        connection.shutdownWrite()
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.json, ["status": "ok"], response.text)
        XCTAssertEqual(running.waitForExit(timeout: 15), 0, "exit status after SIGTERM; stderr: \(running.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.socketPath), "the socket file is removed on exit")
    }

    func testSIGINTStopsAnIdleResponderWithExitZero() throws {
        let running = try startServer(threads: 2)
        running.send(SIGINT)
        XCTAssertEqual(running.waitForExit(timeout: 15), 0, running.stderr)
    }

    func testSecondServeOnALiveSocketRefusesWithExitOneAndOneLine() throws {
        _ = try startServer()
        var environment = sandbox.environment
        environment["GUDOK_LOG_LEVEL"] = "info"
        sandbox.environment = environment
        let second = try GudokProcess(["serve", "--fastcgi", "unix:\(sandbox.socketPath)"], in: sandbox, name: "second")
        XCTAssertEqual(second.waitForExit(timeout: 20), 1, "second serve: \(second.stderr)")
        let lines = second.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertEqual(lines.count, 1, "exactly one line on stderr, got: \(second.stderr.debugDescription)")
        XCTAssertTrue(second.stderr.contains(sandbox.socketPath), "the line names the socket: \(second.stderr)")
        XCTAssertEqual(try FastCGIClient.get(sandbox.address, "/healthz").status, 200, "the first responder keeps its socket")
    }

    func testStaleSocketFromAKilledResponderIsReplaced() throws {
        let first = try startServer(threads: 2)
        first.send(SIGKILL)
        XCTAssertNotNil(first.waitForExit(timeout: 10))
        XCTAssertTrue(FileManager.default.fileExists(atPath: sandbox.socketPath), "SIGKILL leaves the socket file behind")
        server = try sandbox.serve(threads: 2, name: "serve-again")
        XCTAssertEqual(try FastCGIClient.get(sandbox.address, "/healthz").status, 200)
    }

    func testTheSandboxIsNotPartOfTheBillingBinary() throws {
        let refused = try GudokProcess(["toss-sandbox", "--listen", "127.0.0.1:0"], in: sandbox, name: "no-sandbox")
        XCTAssertEqual(refused.waitForExit(timeout: 20), 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("its own executable"), refused.stderr)
    }

    func testBadFastCGIAddressIsAUsageError() throws {
        let bad = try GudokProcess(["serve", "--fastcgi", "nonsense"], in: sandbox, name: "bad")
        XCTAssertEqual(bad.waitForExit(timeout: 20), 2, bad.stderr)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
    }
}

final class GudokMigrateProcessTests: XCTestCase {
    func testConcurrentMigrateProcessesAllSucceedAndTheSecondRoundAppliesNothing() throws {
        let sandbox = try GudokSandbox()
        let processes = try (0..<4).map { try GudokProcess(["migrate"], in: sandbox, name: "migrate-\($0)") }
        for process in processes {
            XCTAssertEqual(process.waitForExit(timeout: 60), 0, "\(process.name): \(process.stderr)")
        }
        let applied = processes.filter { $0.stdout.contains("applied migrations") }
        XCTAssertGreaterThanOrEqual(applied.count, 1, processes.map(\.stdout).joined(separator: " | "))
        let again = try sandbox.run(["migrate"], name: "migrate-again")
        XCTAssertEqual(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "schema is up to date")
    }
}
