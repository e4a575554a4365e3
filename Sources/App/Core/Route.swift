import Web

/// Who may call a route.
enum Access: Sendable {
    case anyone
    case signedIn
    case staff
}

/// A JSON API route answers errors as JSON; a page route answers them as HTML and redirects to sign-in.
enum RouteKind: Sendable {
    case api
    case page
}

typealias ExchangeHandler = @Sendable (Exchange) throws -> HTTPResponse

struct RouteSpec: Sendable {
    let kind: RouteKind
    let access: Access
    /// Unsafe methods need the CSRF token unless exempt (only the Toss webhook is).
    let csrfExempt: Bool
    let summary: String
    let handler: ExchangeHandler
}

/// Collects routes while the app is assembled.
struct RouteTable {
    private(set) var router = Router<RouteSpec>()

    mutating func api(_ method: String, _ path: String, _ access: Access = .anyone, csrfExempt: Bool = false, summary: String = "",
                      _ handler: @escaping ExchangeHandler) {
        router.add(method, path, RouteSpec(kind: .api, access: access, csrfExempt: csrfExempt, summary: summary, handler: handler))
    }

    mutating func page(_ method: String, _ path: String, _ access: Access = .anyone, summary: String = "",
                       _ handler: @escaping ExchangeHandler) {
        router.add(method, path, RouteSpec(kind: .page, access: access, csrfExempt: false, summary: summary, handler: handler))
    }
}
