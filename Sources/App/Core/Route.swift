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

/// What the OpenAPI document says about a JSON route: request and response schemas by component name.
struct APIDoc: Sendable {
    var request: String?
    var responses: [(Int, String?)]
    var query: [String]
    var responseType: String

    init(request: String? = nil, responses: [(Int, String?)] = [(200, nil)], query: [String] = [], responseType: String = "application/json") {
        self.request = request
        self.responses = responses
        self.query = query
        self.responseType = responseType
    }
}

struct RouteSpec: Sendable {
    let kind: RouteKind
    let access: Access
    /// Unsafe methods need the CSRF token unless exempt (only the Toss webhook is).
    let csrfExempt: Bool
    let summary: String
    let doc: APIDoc
    let handler: ExchangeHandler
}

/// Collects routes while the app is assembled.
struct RouteTable {
    private(set) var router = Router<RouteSpec>()

    mutating func api(_ method: String, _ path: String, _ access: Access = .anyone, csrfExempt: Bool = false, summary: String = "",
                      doc: APIDoc = APIDoc(), _ handler: @escaping ExchangeHandler) {
        router.add(method, path, RouteSpec(kind: .api, access: access, csrfExempt: csrfExempt, summary: summary, doc: doc, handler: handler))
    }

    mutating func page(_ method: String, _ path: String, _ access: Access = .anyone, summary: String = "", query: [String] = [],
                       _ handler: @escaping ExchangeHandler) {
        router.add(method, path, RouteSpec(kind: .page, access: access, csrfExempt: false, summary: summary,
                                           doc: APIDoc(responses: [(200, nil)], query: query, responseType: "text/html"), handler: handler))
    }
}
