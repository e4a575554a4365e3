import Foundation
import Storage
import Web

/// One request on its way through the app: the request, who sent it, and cookies to set on the answer.
final class Exchange: @unchecked Sendable {
    let request: HTTPRequest
    let app: Application
    let kind: RouteKind
    private(set) var user: User?
    private(set) var sessionID: String?
    private var newCSRFToken: String?
    private var cookies: [SetCookie] = []

    init(request: HTTPRequest, app: Application, kind: RouteKind) {
        self.request = request
        self.app = app
        self.kind = kind
    }

    /// The CSRF token the client holds, or a new one (made on first use) that the answer will set.
    var csrfToken: String {
        if let existing = request.cookies[CSRF.cookieName], app.csrf.isWellFormed(existing) { return existing }
        if let newCSRFToken { return newCSRFToken }
        let token = app.csrf.makeToken()
        newCSRFToken = token
        return token
    }

    var path: [String: String] { request.pathParameters }

    /// A `{name}` segment of the route's pattern. The router fills every one it matched, so a missing one is a route
    /// registered with a different name: answered as not found rather than crashing the responder.
    func pathParameter(_ name: String) throws -> String {
        guard let value = request.pathParameters[name] else {
            throw HTTPError(404, code: "NOT_FOUND", message: "요청한 주소를 찾을 수 없습니다.")
        }
        return value
    }
    var now: Date { app.clock.now() }
    var isSecure: Bool { request.isHTTPS || app.configuration.isProduction }

    func loadSession() throws {
        guard let id = request.cookies[SessionStore.cookieName], !id.isEmpty else { return }
        user = try app.database.withConnection { try SessionStore(connection: $0).user(sessionID: id, now: Date()) }
        if user != nil { sessionID = id }
    }

    func requireUser() throws -> User {
        guard let user else { throw HTTPError.notAuthenticated }
        return user
    }

    func signIn(_ user: User) throws {
        let newID = try app.database.withConnection { connection in
            if let old = sessionID { try SessionStore(connection: connection).delete(sessionID: old) }
            return try SessionStore(connection: connection).create(userID: user.id, now: Date())
        }
        self.user = user
        sessionID = newID
        cookies.append(SetCookie(name: SessionStore.cookieName, value: newID, maxAge: Int(SessionStore.lifetime), httpOnly: true, secure: isSecure))
    }

    func signOut() throws {
        if let id = sessionID ?? request.cookies[SessionStore.cookieName] {
            try app.database.withConnection { try SessionStore(connection: $0).delete(sessionID: id) }
        }
        user = nil
        sessionID = nil
        cookies.append(SetCookie.expired(SessionStore.cookieName, secure: isSecure))
    }

    /// Adds the cookies this exchange set, and a CSRF cookie when the client had none.
    func finish(_ response: HTTPResponse) -> HTTPResponse {
        var response = response
        for cookie in cookies { response.setCookie(cookie) }
        if let newCSRFToken {
            // Readable by the page's JS (the seed's client sends it back as X-CSRFToken), like Django's.
            response.setCookie(SetCookie(name: CSRF.cookieName, value: newCSRFToken, maxAge: 365 * 24 * 3600, httpOnly: false, secure: isSecure))
        }
        return response
    }

    @discardableResult
    func withDatabase<T>(_ body: (DatabaseConnection) throws -> T) throws -> T { try app.database.withConnection(body) }
}
