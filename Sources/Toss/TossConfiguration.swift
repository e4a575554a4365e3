/// Seconds allowed per kind of call. Toss says a billing charge may take up to 60 s.
public struct TossTimeouts: Sendable, Equatable {
    public var connect: Double
    public var confirm: Double
    public var cancel: Double
    public var lookup: Double
    public var billingCharge: Double

    public init(connect: Double = 10, confirm: Double = 30, cancel: Double = 30, lookup: Double = 30,
                billingCharge: Double = 60) {
        self.connect = connect
        self.confirm = confirm
        self.cancel = cancel
        self.lookup = lookup
        self.billingCharge = billingCharge
    }
}

public struct TossConfiguration: Sendable, Equatable {
    /// Up to and including the API version, e.g. "https://api.tosspayments.com/v1" or "http://127.0.0.1:9090/v1".
    public var baseURL: String
    public var secretKey: String
    public var timeouts: TossTimeouts

    public init(baseURL: String, secretKey: String, timeouts: TossTimeouts = .init()) {
        self.baseURL = baseURL
        self.secretKey = secretKey
        self.timeouts = timeouts
    }
}

/// Never prints the secret key.
extension TossConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "TossConfiguration(baseURL: \(baseURL), secretKey: \(Self.redacted(secretKey)), timeouts: \(timeouts))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["baseURL": baseURL, "secretKey": Self.redacted(secretKey), "timeouts": timeouts])
    }

    /// Keeps the family prefix ("test_sk_", "live_gsk_") so a log shows which key is configured.
    static func redacted(_ key: String) -> String {
        guard let lastUnderscore = key.lastIndex(of: "_") else { return "<redacted>" }
        return key[...lastUnderscore] + "…"
    }
}
