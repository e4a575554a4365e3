public enum Cookies {
    public static func parse(_ header: String) -> [String: String] {
        var cookies: [String: String] = [:]
        for part in header.split(separator: ";") {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2 else { continue }
            let name = pieces[0].trimmingCharacters(in: .whitespaces)
            if cookies[name] == nil { cookies[name] = pieces[1].trimmingCharacters(in: .whitespaces) }
        }
        return cookies
    }
}

public struct SetCookie: Sendable {
    public var name: String
    public var value: String
    public var path = "/"
    public var maxAge: Int?
    public var httpOnly = true
    public var secure = false
    public var sameSite = "Lax"

    public init(name: String, value: String, maxAge: Int? = nil, httpOnly: Bool = true, secure: Bool = false) {
        self.name = name
        self.value = value
        self.maxAge = maxAge
        self.httpOnly = httpOnly
        self.secure = secure
    }

    public static func expired(_ name: String, secure: Bool) -> SetCookie {
        SetCookie(name: name, value: "", maxAge: 0, secure: secure)
    }

    public var headerValue: String {
        var parts = ["\(name)=\(value)", "Path=\(path)"]
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if httpOnly { parts.append("HttpOnly") }
        if secure { parts.append("Secure") }
        parts.append("SameSite=\(sameSite)")
        return parts.joined(separator: "; ")
    }
}

import Foundation
