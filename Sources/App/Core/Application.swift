import Crypto
import Foundation
import Storage
import Web

/// The assembled app: configuration, storage, clock and routes; `respond` is the one boundary where errors become answers.
public final class Application: Sendable {
    public let configuration: Configuration
    public let database: Database
    public let clock: Clock
    public let logger: Logger
    let csrf: CSRF
    let passwordHasher: PasswordHasher
    public let services: Services
    let metrics = Metrics()
    let routes: Router<RouteSpec>

    public init(configuration: Configuration, database: Database, clock: Clock, logger: Logger,
                passwordHasher: PasswordHasher = PasswordHasher(), services: Services) {
        self.configuration = configuration
        self.database = database
        self.clock = clock
        self.logger = logger
        self.passwordHasher = passwordHasher
        self.services = services
        csrf = CSRF(key: Crypto.hmacSHA256(key: Array(configuration.secretKey.utf8), message: Array("gudok csrf".utf8)))
        var table = RouteTable()
        Application.registerRoutes(&table)
        routes = table.router
    }

    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        let started = DispatchTime.now()
        var pattern = "-"
        var userID: String?
        let response: HTTPResponse
        switch routes.match(method: request.method, path: request.path) {
        case .notFound:
            response = notFound(request)
        case .methodNotAllowed(let allowed):
            var error = HTTPError(405, code: "METHOD_NOT_ALLOWED", message: "\(request.method) 메서드는 이 경로에서 허용되지 않습니다.")
            error.headers["Allow"] = allowed.joined(separator: ", ")
            response = error.response
        case .found(let route, let parameters):
            pattern = route.pattern
            var routed = request
            routed.pathParameters = parameters
            let exchange = Exchange(request: routed, app: self, kind: route.target.kind)
            response = run(route.target, exchange)
            userID = exchange.user?.id
        }
        let micros = (DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1000
        metrics.observe(method: request.method, route: pattern, status: response.status, seconds: Double(micros) / 1_000_000)
        logger.info("request", ["request_id": .string(request.requestID), "method": .string(request.method), "route": .string(pattern),
                                "status": .int(response.status), "duration_ms": .double(Double(micros) / 1000), "user_id": .optional(userID)])
        return response
    }

    private func run(_ spec: RouteSpec, _ exchange: Exchange) -> HTTPResponse {
        do {
            try exchange.loadSession()
            if let refusal = try authorize(spec, exchange) { return exchange.finish(refusal) }
            return exchange.finish(try spec.handler(exchange))
        } catch let error as HTTPError {
            return exchange.finish(spec.kind == .api ? error.response : Pages.error(error, exchange))
        } catch let error as HTTPErrorConvertible {
            let http = error.httpError
            return exchange.finish(spec.kind == .api ? http.response : Pages.error(http, exchange))
        } catch {
            logger.error("unhandled_error", ["request_id": .string(exchange.request.requestID), "route": .string(exchange.request.path),
                                             "error": .string(String(describing: error))])
            let failure = HTTPError(500, code: "INTERNAL_ERROR",
                                    message: "서버 오류가 발생했습니다. 문제가 계속되면 요청 ID \(exchange.request.requestID)와 함께 문의하세요.")
            return spec.kind == .api ? failure.response : Pages.error(failure, exchange)
        }
    }

    /// Authentication first (401 or a sign-in redirect), then staff (404, no existence leak), then CSRF (403).
    private func authorize(_ spec: RouteSpec, _ exchange: Exchange) throws -> HTTPResponse? {
        if spec.access != .anyone, exchange.user == nil {
            if spec.kind == .page {
                let next = exchange.request.path + (exchange.request.query.isEmpty ? "" : "?" + exchange.request.query.encoded)
                return .redirect(to: "/accounts/login?next=" + PercentEncoding.encodeComponent(next), status: 302)
            }
            throw HTTPError.notAuthenticated
        }
        if spec.access == .staff, exchange.user?.isStaff != true { throw HTTPError.notFound() }
        if !exchange.request.isSafeMethod, !spec.csrfExempt, !csrf.accepts(exchange.request) { throw HTTPError.csrfFailed }
        return nil
    }

    private func notFound(_ request: HTTPRequest) -> HTTPResponse {
        let error = HTTPError.notFound("\(request.path) 경로를 찾을 수 없습니다.")
        if !request.path.hasPrefix("/api/") && request.acceptsHTML {
            let exchange = Exchange(request: request, app: self, kind: .page)
            try? exchange.loadSession()
            return exchange.finish(Pages.error(error, exchange))
        }
        return error.response
    }
}
