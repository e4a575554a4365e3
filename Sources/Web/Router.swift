/// Routes by method and path to a target; `{name}` segments become parameters.
public struct Router<Target: Sendable>: Sendable {
    public struct Route: Sendable {
        public let method: String
        public let pattern: String
        public let target: Target
        let segments: [Segment]
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    public enum Match {
        case found(Route, parameters: [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    public private(set) var routes: [Route] = []
    private var exact: [String: [String: Int]] = [:]  // path → method → index, for routes without parameters

    public init() {}

    public mutating func add(_ method: String, _ pattern: String, _ target: Target) {
        let segments = Router.split(pattern).map { part -> Segment in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(part)
        }
        routes.append(Route(method: method, pattern: pattern, target: target, segments: segments))
        if !segments.contains(where: { if case .parameter = $0 { return true }; return false }) {
            exact[Router.normalized(pattern), default: [:]][method] = routes.count - 1
        }
    }

    public func match(method: String, path: String) -> Match {
        let lookupMethod = method == "HEAD" ? "GET" : method
        if let index = exact[Router.normalized(path)]?[lookupMethod] { return .found(routes[index], parameters: [:]) }
        let parts = Router.split(path)
        var allowed: [String] = []
        for route in routes where route.segments.count == parts.count {
            var parameters: [String: String] = [:]
            var matches = true
            for (segment, part) in zip(route.segments, parts) {
                switch segment {
                case .literal(let literal): matches = literal == part
                case .parameter(let name):
                    matches = !part.isEmpty
                    parameters[name] = part
                }
                if !matches { break }
            }
            guard matches else { continue }
            if route.method == lookupMethod { return .found(route, parameters: parameters) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    static func normalized(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    static func split(_ path: String) -> [String] {
        normalized(path).split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
    }
}
