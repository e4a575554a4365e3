// HTTP/1.1 request and response values plus URL helpers (percent-encoding,
// query strings, appending redirect parameters).

import JSON

public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as sent (path plus optional query).
    public var target: String
    /// The path part of the target, still percent-encoded.
    public var rawPath: String
    /// The path part, percent-decoded (`+` stays `+`).
    public var path: String
    public var rawQuery: String
    public var query: [(String, String)]
    /// Header names are lower-cased; order is kept.
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var version: String

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        for (k, v) in headers where k == lower { return v }
        return nil
    }

    public func queryValue(_ name: String) -> String? {
        for (k, v) in query where k == name { return v }
        return nil
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// `application/x-www-form-urlencoded` body fields.
    public var formFields: [(String, String)] { URLCoding.parseQuery(bodyText) }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ status: Int, _ value: JSON) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: value.serialized())
    }

    public static func jsonBytes(_ status: Int, _ bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: bytes)
    }

    public static func html(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/html; charset=utf-8"),
                                               ("Cache-Control", "no-store")], body: Array(text.utf8))
    }

    public static func text(_ status: Int, _ text: String, type: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", type)], body: Array(text.utf8))
    }

    public static func redirect(_ location: String) -> HTTPResponse {
        HTTPResponse(status: 303, headers: [("Location", location), ("Cache-Control", "no-store"),
                                            ("Content-Type", "text/plain; charset=utf-8")],
                     body: Array("See Other: \(location)\n".utf8))
    }

    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 204: return "No Content"
        case 303: return "See Other"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Payload Too Large"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}

public enum URLCoding {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 45 || b == 46 || b == 95 || b == 126
    }

    /// Percent-encodes everything except RFC 3986 unreserved characters.
    public static func encodeComponent(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if isUnreserved(b) { out.append(b) } else {
                out.append(37); out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: return b - 48
        case 65...70: return b - 55
        case 97...102: return b - 87
        default: return nil
        }
    }

    /// Decodes `%XX`; when `plusIsSpace`, `+` becomes a space (form encoding).
    public static func decode(_ s: String, plusIsSpace: Bool) -> String {
        let bytes = Array(s.utf8)
        if !bytes.contains(37) && !(plusIsSpace && bytes.contains(43)) { return s }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 37, i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else if b == 43 && plusIsSpace {
                out.append(32); i += 1
            } else {
                out.append(b); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func parseQuery(_ q: String) -> [(String, String)] {
        if q.isEmpty { return [] }
        var result: [(String, String)] = []
        for part in q.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: "=") {
                result.append((decode(String(part[..<eq]), plusIsSpace: true),
                               decode(String(part[part.index(after: eq)...]), plusIsSpace: true)))
            } else {
                result.append((decode(String(part), plusIsSpace: true), ""))
            }
        }
        return result
    }

    public static func buildQuery(_ pairs: [(String, String)]) -> String {
        pairs.map { encodeComponent($0.0) + "=" + encodeComponent($0.1) }.joined(separator: "&")
    }

    /// Appends query parameters to a URL that may already carry a query
    /// string (possibly ending in `?` or `&`) and/or a fragment.
    public static func appendQuery(to url: String, _ pairs: [(String, String)]) -> String {
        var base = url
        var fragment = ""
        if let hash = base.firstIndex(of: "#") {
            fragment = String(base[hash...])
            base = String(base[..<hash])
        }
        let q = buildQuery(pairs)
        if q.isEmpty { return base + fragment }
        if let qm = base.firstIndex(of: "?") {
            let existing = base[base.index(after: qm)...]
            if existing.isEmpty || existing.hasSuffix("&") { base += q } else { base += "&" + q }
        } else {
            base += "?" + q
        }
        return base + fragment
    }

    /// True for an absolute http(s) URL with a host.
    public static func isHTTPURL(_ s: String) -> Bool {
        let lower = s.lowercased()
        let rest: Substring
        if lower.hasPrefix("http://") { rest = s.dropFirst(7) } else if lower.hasPrefix("https://") { rest = s.dropFirst(8) } else { return false }
        guard let first = rest.first, first != "/", first != "?", first != "#" else { return false }
        for c in s.unicodeScalars where c.value < 0x21 || c.value == 0x7F || c == "\\" { return false }
        return true
    }
}

public enum HTMLText {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// `9900` → `9,900`
    public static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    public static func won(_ n: Int64) -> String { grouped(n) + "원" }
}
