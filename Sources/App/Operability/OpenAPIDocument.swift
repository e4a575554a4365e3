import Web

/// `GET /api/openapi.json`: OpenAPI 3.1 generated from the route table the handlers are served from, so it cannot drift.
enum OpenAPIDocument {
    static func make(_ app: Application) -> JSON {
        var paths = JSONObject()
        for route in app.routes.routes where route.pattern.hasPrefix("/api/") || route.pattern == "/healthz" || route.pattern == "/metrics" {
            let key = route.pattern
            var item = paths[key]?.objectValue ?? JSONObject()
            item[route.method.lowercased()] = operation(route)
            paths[key] = .object(item)
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "gudok API", "version": "1.0.0",
                     "description": "구독 결제 API (gudok). Money is integer won; times are RFC 3339 with offset; errors are {message, code}."],
            "paths": .object(paths),
            "components": [
                "schemas": .object(OpenAPISchemas.all),
                "securitySchemes": [
                    "session": ["type": "apiKey", "in": "cookie", "name": "sessionid"],
                    "csrf": ["type": "apiKey", "in": "header", "name": "X-CSRFToken"],
                ],
            ],
        ]
    }

    private static func operation(_ route: Router<RouteSpec>.Route) -> JSON {
        let spec = route.target
        var operation: JSONObject = ["summary": .string(spec.summary.isEmpty ? route.pattern : spec.summary),
                                     "operationId": .string(operationID(route)), "tags": [.string(tag(route.pattern))]]
        var parameters: [JSON] = route.pattern.split(separator: "/").filter { $0.hasPrefix("{") }.map { segment in
            ["name": .string(String(segment.dropFirst().dropLast())), "in": "path", "required": true, "schema": ["type": "string"]]
        }
        parameters += spec.doc.query.map { ["name": .string($0), "in": "query", "required": false, "schema": ["type": "string"]] }
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let request = spec.doc.request {
            operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": OpenAPISchemas.ref(request)]]]
        }
        var responses = JSONObject()
        for (status, schema) in spec.doc.responses {
            var response: JSONObject = ["description": .string(HTTPResponse.reasonPhrase(status))]
            if status != 204 && status != 303 {
                let body: JSON = schema.map { OpenAPISchemas.ref($0) } ?? (spec.doc.responseType == "application/json" ? ["type": "object"] : ["type": "string"])
                response["content"] = .object(JSONObject([(spec.doc.responseType, JSON.object(["schema": body]))]))
            }
            responses[String(status)] = .object(response)
        }
        if spec.kind == .api {
            responses["default"] = ["description": "Error", "content": ["application/json": ["schema": OpenAPISchemas.ref("Error")]]]
        }
        operation["responses"] = .object(responses)
        if spec.access != .anyone { operation["security"] = [["session": []]] }
        return .object(operation)
    }

    private static func operationID(_ route: Router<RouteSpec>.Route) -> String {
        route.method.lowercased() + route.pattern.split(separator: "/").map { part in
            part.replacingOccurrences(of: "{", with: "by_").replacingOccurrences(of: "}", with: "").replacingOccurrences(of: "-", with: "_")
        }.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    private static func tag(_ pattern: String) -> String {
        let parts = pattern.split(separator: "/")
        return parts.count > 1 && parts[0] == "api" ? String(parts[1]) : "system"
    }
}
