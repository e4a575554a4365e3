import Crypto
import Foundation

public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let variable: String
    public let problem: String
    public var description: String { "configuration error: \(variable) \(problem)" }
}

/// Settings from the environment, with a `.env` file in the working directory read too (the environment wins).
public struct Configuration: Sendable {
    public static let sandboxClientKey = "test_ck_gudokSandboxClientKey0000"
    public static let sandboxSecretKey = "test_sk_gudokSandboxSecretKey0000"

    public var databaseURL: String
    public var tossClientKey: String
    public var tossSecretKey: String
    public var tossBaseURL: String
    public var tossJSSDKURL: String
    public var isProduction: Bool
    public var secretKey: String
    public var publicURL: String?
    public var timeZone: TimeZone
    public var testClockEnabled: Bool
    public var metricsToken: String?
    public var logLevel: LogLevel
    /// Seconds; lets tests shorten Toss client timeouts. Production keeps Toss's recommended 10/30/60.
    public var tossTimeoutScale: Double
    /// The seller printed on invoices and receipts (상호) and its 사업자등록번호.
    public var sellerName: String = "gudok"
    public var sellerBusinessNumber: String?

    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment,
                            dotEnvPath: String = ".env", secretFile: String = "var/secret") throws -> Configuration {
        var values = DotEnv.read(path: dotEnvPath)
        for (key, value) in environment { values[key] = value }
        func value(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }

        let env = value("GUDOK_ENV") ?? "development"
        guard env == "development" || env == "production" || env == "test" else {
            throw ConfigurationError(variable: "GUDOK_ENV", problem: "must be development, production or test (got \(env))")
        }
        let production = env == "production"
        let databaseURL = value("DATABASE_URL") ?? "sqlite:var/gudok.sqlite3"
        guard databaseURL.hasPrefix("sqlite:") || databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") else {
            throw ConfigurationError(variable: "DATABASE_URL", problem: "must start with sqlite: or postgres:// or postgresql://")
        }
        let zoneName = value("GUDOK_TIMEZONE") ?? "Asia/Seoul"
        guard let zone = TimeZone(identifier: zoneName) else {
            throw ConfigurationError(variable: "GUDOK_TIMEZONE", problem: "is not a known time zone (got \(zoneName))")
        }
        let secretKey: String
        if let given = value("GUDOK_SECRET_KEY") {
            guard given.utf8.count >= 32 else { throw ConfigurationError(variable: "GUDOK_SECRET_KEY", problem: "must be at least 32 characters") }
            secretKey = given
        } else if production {
            throw ConfigurationError(variable: "GUDOK_SECRET_KEY", problem: "is required when GUDOK_ENV=production")
        } else {
            secretKey = try DevelopmentSecret.loadOrCreate(path: secretFile)
        }
        let clientKey = value("TOSS_CLIENT_KEY") ?? sandboxClientKey
        let tossSecret = value("TOSS_SECRET_KEY") ?? sandboxSecretKey
        if production {
            guard value("TOSS_SECRET_KEY") != nil, value("TOSS_CLIENT_KEY") != nil else {
                throw ConfigurationError(variable: value("TOSS_SECRET_KEY") == nil ? "TOSS_SECRET_KEY" : "TOSS_CLIENT_KEY",
                                         problem: "is required when GUDOK_ENV=production")
            }
            guard tossSecret != sandboxSecretKey else {
                throw ConfigurationError(variable: "TOSS_SECRET_KEY", problem: "must be a real Toss key in production, not the sandbox key")
            }
        }
        let baseURL = value("TOSS_BASE_URL") ?? "https://api.tosspayments.com/v1"
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            throw ConfigurationError(variable: "TOSS_BASE_URL", problem: "must be an http(s) URL")
        }
        let sdkURL = value("TOSS_JS_SDK_URL") ?? "https://js.tosspayments.com/v2/standard"
        guard sdkURL.hasPrefix("http://") || sdkURL.hasPrefix("https://") else {
            throw ConfigurationError(variable: "TOSS_JS_SDK_URL", problem: "must be an http(s) URL")
        }
        if let publicURL = value("GUDOK_PUBLIC_URL"), !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) {
            throw ConfigurationError(variable: "GUDOK_PUBLIC_URL", problem: "must be an http(s) origin such as https://billing.example.com")
        }
        let levelName = value("GUDOK_LOG_LEVEL") ?? "info"
        guard let level = LogLevel(rawValue: levelName.lowercased()) else {
            throw ConfigurationError(variable: "GUDOK_LOG_LEVEL", problem: "must be debug, info, warning or error")
        }
        let scaleText = value("GUDOK_TOSS_TIMEOUT_SCALE") ?? "1"
        guard let scale = Double(scaleText), scale > 0, scale.isFinite else {
            throw ConfigurationError(variable: "GUDOK_TOSS_TIMEOUT_SCALE", problem: "must be a positive number (got \(scaleText))")
        }
        let testClock = value("GUDOK_TEST_CLOCK") ?? "0"
        guard testClock == "0" || testClock == "1" else {
            throw ConfigurationError(variable: "GUDOK_TEST_CLOCK", problem: "must be 1 or 0 (got \(testClock))")
        }
        let businessNumber = value("GUDOK_SELLER_BUSINESS_NUMBER")
        if let businessNumber, !SellerIdentity.isBusinessNumber(businessNumber) {
            throw ConfigurationError(variable: "GUDOK_SELLER_BUSINESS_NUMBER", problem: "must be a 사업자등록번호 of 10 digits, e.g. 123-45-67890")
        }
        var configuration = Configuration(
            databaseURL: databaseURL, tossClientKey: clientKey, tossSecretKey: tossSecret, tossBaseURL: baseURL,
            tossJSSDKURL: sdkURL, isProduction: production, secretKey: secretKey,
            publicURL: value("GUDOK_PUBLIC_URL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            timeZone: zone, testClockEnabled: !production && testClock == "1",
            metricsToken: value("GUDOK_METRICS_TOKEN"), logLevel: level, tossTimeoutScale: production ? 1 : scale)
        configuration.sellerName = value("GUDOK_SELLER_NAME") ?? "gudok"
        configuration.sellerBusinessNumber = businessNumber.map(SellerIdentity.formatBusinessNumber)
        return configuration
    }

    /// The origin of the Toss JS SDK, for the checkout page's Content-Security-Policy.
    public var tossJSSDKOrigin: String {
        guard let url = URL(string: tossJSSDKURL), let scheme = url.scheme, let host = url.host else { return tossJSSDKURL }
        return url.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }
}

enum DotEnv {
    static func read(path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            var trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("export ") { trimmed = String(trimmed.dropFirst(7)) }
            guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, (value.hasPrefix("\"") && value.hasSuffix("\"")) || (value.hasPrefix("'") && value.hasSuffix("'")) {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
        }
        return values
    }
}

/// In development the session secret is generated once into `var/secret` (mode 0600) and reused.
enum DevelopmentSecret {
    static func loadOrCreate(path: String) throws -> String {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           existing.utf8.count >= 32 {
            return existing
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let secret = Crypto.randomToken(bytes: 48)
        let created = FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
        guard created else { throw ConfigurationError(variable: "GUDOK_SECRET_KEY", problem: "is not set and \(path) cannot be written") }
        // Another process may have won the race: read back whatever is there now.
        return (try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? secret
    }
}

import Web

enum SellerIdentity {
    static func isBusinessNumber(_ text: String) -> Bool {
        let digits = text.filter { $0 != "-" }
        return digits.count == 10 && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber) && text.allSatisfy { $0 == "-" || $0.isNumber }
    }

    /// 1234567890 → 123-45-67890.
    static func formatBusinessNumber(_ text: String) -> String {
        let digits = Array(text.filter { $0 != "-" })
        return String(digits[0..<3]) + "-" + String(digits[3..<5]) + "-" + String(digits[5...])
    }
}
