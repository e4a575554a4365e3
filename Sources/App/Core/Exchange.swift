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
    /// The CSRF token the client holds, or a new one that the answer will set.
    let csrfToken: String
    private let csrfIsNew: Bool
    private var cookies: [SetCookie] = []

    init(request: HTTPRequest, app: Application, kind: RouteKind) {
        self.request = request
        self.app = app
        self.kind = kind
        if let existing = request.cookies[CSRF.cookieName], app.csrf.isWellFormed(existing) {
            csrfToken = existing
            csrfIsNew = false
        } else {
            csrfToken = app.csrf.makeToken()
            csrfIsNew = true
        }
    }

    var path: [String: String] { request.pathParameters }
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
        if csrfIsNew {
            // Readable by the page's JS (the seed's client sends it back as X-CSRFToken), like Django's.
            response.setCookie(SetCookie(name: CSRF.cookieName, value: csrfToken, maxAge: 365 * 24 * 3600, httpOnly: false, secure: isSecure))
        }
        return response
    }

    func withDatabase<T>(_ body: (DatabaseConnection) throws -> T) throws -> T { try app.database.withConnection(body) }
}
