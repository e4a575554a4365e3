import Foundation
import Storage
import Web
import XCTest

@testable import App

/// An `Application` over a fresh SQLite file, a fixed clock and a cheap password hasher; no socket, no Toss calls
/// (TOSS_BASE_URL points at a closed local port).
final class AppHarness: Sendable {
    static let secret = "app-tests-secret-key-0123456789abcdefghijklmnop"
    static let now = Date(timeIntervalSince1970: 1_769_817_600)  // 2026-01-31T09:00:00+09:00

    let directory: URL
    let database: Database
    let configuration: Configuration
    let app: Application

    init(secret: String = AppHarness.secret, hasher: PasswordHasher = PasswordHasher(iterations: 1000), environment extra: [String: String] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gudok-app-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var environment = [
            "GUDOK_ENV": "development",
            "GUDOK_SECRET_KEY": secret,
            "DATABASE_URL": "sqlite://" + directory.appendingPathComponent("db.sqlite3").path,
            "TOSS_BASE_URL": "http://127.0.0.1:9/v1",
        ]
        for (key, value) in extra { environment[key] = value }
        configuration = try Configuration.load(environment: environment, dotEnvPath: directory.appendingPathComponent("absent.env").path,
                                               secretFile: directory.appendingPathComponent("secret").path)
        database = try DatabaseURL.open(configuration.databaseURL)
        try Migrator(database: database, migrations: GudokSchema.migrations).migrate()
        app = Application(configuration: configuration, database: database, clock: FixedClock(AppHarness.now), logger: Logger(minimum: .error),
                          passwordHasher: hasher, services: Services.make(configuration: configuration))
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func respond(_ request: HTTPRequest) -> HTTPResponse { app.respond(request) }

    func seedPlans() throws { XCTAssertEqual(try DemoPlans.seed(database: database, now: AppHarness.now), 3) }

    func count(_ sql: String, _ parameters: [SQLValue] = []) throws -> Int {
        try database.withConnection { try $0.queryOne(sql, parameters)?.int("n") ?? -1 }
    }

    func execute(_ sql: String, _ parameters: [SQLValue] = []) throws {
        try database.withConnection { _ = try $0.execute(sql, parameters) }
    }

    func browser(https: Bool = false, address: String = "127.0.0.1") -> TestBrowser { TestBrowser(harness: self, https: https, address: address) }
}

/// Keeps cookies between requests like a browser, and sends the CSRF token the way the seed's JS client does.
final class TestBrowser {
    let harness: AppHarness
    let https: Bool
    var address: String
    var cookies: [String: String] = [:]
    private(set) var lastResponse: HTTPResponse?

    init(harness: AppHarness, https: Bool, address: String) {
        self.harness = harness
        self.https = https
        self.address = address
    }

    var csrfToken: String? { cookies["csrftoken"] }

    @discardableResult
    func send(_ method: String, _ target: String, body: [UInt8] = [], headers: [String: String] = [:], contentType: String? = nil,
              withCSRF: Bool = true) -> HTTPResponse {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var allHeaders = headers
        if !cookies.isEmpty {
            allHeaders["cookie"] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        }
        if let contentType { allHeaders["content-type"] = contentType }
        if withCSRF, method != "GET", method != "HEAD", allHeaders["x-csrftoken"] == nil, let token = csrfToken {
            allHeaders["x-csrftoken"] = token
        }
        let request = HTTPRequest(method: method, path: PercentEncoding.decode(String(parts[0])),
                                  query: parts.count > 1 ? QueryParameters(parsing: String(parts[1])) : QueryParameters(),
                                  headers: allHeaders, body: body, remoteAddress: address, isHTTPS: https,
                                  host: https ? "localhost:8443" : "localhost:8080", requestID: "test")
        let response = harness.respond(request)
        for cookie in TestBrowser.setCookies(response) {
            if cookie.attributes["max-age"] == "0" { cookies[cookie.name] = nil } else { cookies[cookie.name] = cookie.value }
        }
        lastResponse = response
        return response
    }

    @discardableResult
    func get(_ target: String, headers: [String: String] = [:]) -> HTTPResponse { send("GET", target, headers: headers) }

    @discardableResult
    func postJSON(_ target: String, _ json: JSON, withCSRF: Bool = true, headers: [String: String] = [:]) -> HTTPResponse {
        send("POST", target, body: json.serializedBytes(), headers: headers, contentType: "application/json", withCSRF: withCSRF)
    }

    @discardableResult
    func postForm(_ target: String, _ fields: [(String, String)], includeFormToken: Bool = true) -> HTTPResponse {
        var fields = fields
        if includeFormToken, let token = csrfToken { fields.append(("csrfmiddlewaretoken", token)) }
        return send("POST", target, body: Array(QueryParameters(fields).encoded.utf8), headers: ["accept": "text/html"],
                    contentType: "application/x-www-form-urlencoded", withCSRF: false)
    }

    /// Gets a CSRF cookie the way the seed's client does.
    func fetchCSRF(file: StaticString = #filePath, line: UInt = #line) {
        let response = get("/api/auth/csrf")
        XCTAssertEqual(response.status, 200, file: file, line: line)
        XCTAssertNotNil(csrfToken, "GET /api/auth/csrf must set csrftoken", file: file, line: line)
    }

    @discardableResult
    func signUp(_ username: String, password: String = "correct-horse", email: String = "") -> HTTPResponse {
        if csrfToken == nil { fetchCSRF() }
        return postJSON("/api/auth/signup", ["username": .string(username), "email": .string(email), "password": .string(password)])
    }

    @discardableResult
    func logIn(_ username: String, password: String = "correct-horse") -> HTTPResponse {
        if csrfToken == nil { fetchCSRF() }
        return postJSON("/api/auth/login", ["username": .string(username), "password": .string(password)])
    }

    struct ParsedCookie {
        let name: String
        let value: String
        /// Lower-cased attribute names; flags map to "".
        let attributes: [String: String]
        let raw: String
    }

    static func setCookies(_ response: HTTPResponse) -> [ParsedCookie] {
        response.headers.filter { $0.0.lowercased() == "set-cookie" }.map { header in
            let parts = header.1.components(separatedBy: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            let first = parts[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            var attributes: [String: String] = [:]
            for part in parts.dropFirst() {
                let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                attributes[pieces[0].lowercased()] = pieces.count > 1 ? String(pieces[1]) : ""
            }
            return ParsedCookie(name: String(first[0]), value: first.count > 1 ? String(first[1]) : "", attributes: attributes, raw: header.1)
        }
    }

    static func setCookie(_ name: String, in response: HTTPResponse) -> ParsedCookie? { setCookies(response).first { $0.name == name } }
}

extension HTTPResponse {
    var parsedBody: JSON? { try? JSON.parse(body) }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Asserts the contract's error shape: exactly `{"message": …, "code": CODE}` with the status.
func assertErrorAnswer(_ response: HTTPResponse, _ status: Int, _ code: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(response.status, status, response.bodyText, file: file, line: line)
    XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8", file: file, line: line)
    guard let json = response.parsedBody else { return XCTFail("not JSON: \(response.bodyText)", file: file, line: line) }
    XCTAssertEqual(json.objectValue?.keys, ["message", "code"], response.bodyText, file: file, line: line)
    XCTAssertEqual(json["code"], .string(code), response.bodyText, file: file, line: line)
    XCTAssertFalse(json["message"]?.stringValue?.isEmpty ?? true, "an error needs a human message: \(response.bodyText)", file: file, line: line)
}
