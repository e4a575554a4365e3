import JSON
/// The Billing object Toss returns when it issues a billing key.
/// Its descriptions and mirror leave out `billingKey`, so a stray log line cannot leak it.
public struct TossBilling: Sendable, Equatable {
    public var billingKey: String
    public var customerKey: String
    /// Korean, e.g. "카드".
    public var method: String?
    public var authenticatedAt: String?
    public var card: TossCard?

    public init(billingKey: String, customerKey: String, method: String? = nil, authenticatedAt: String? = nil,
                card: TossCard? = nil) {
        self.billingKey = billingKey
        self.customerKey = customerKey
        self.method = method
        self.authenticatedAt = authenticatedAt
        self.card = card
    }

    /// Reads both the current shape (`card{issuerCode, number, …}`) and the one before API version
    /// 2024-06-01 (`cardCompany`, `cardNumber` at the top level).
    public init(jsonObject: JSONObject) throws(TossError) {
        try self.init(JSONFields(jsonObject))
    }

    public init(json: [UInt8]) throws(TossError) {
        guard let fields = JSONFields(json: json) else { throw Self.unreadable("not a JSON object") }
        try self.init(fields)
    }

    init(_ fields: JSONFields) throws(TossError) {
        guard let billingKey = fields.string("billingKey"), !billingKey.isEmpty else {
            throw Self.unreadable("no billingKey")
        }
        guard let customerKey = fields.string("customerKey") else { throw Self.unreadable("no customerKey") }
        var card = fields.object("card").map(TossCard.init)
        let oldCompany = fields.string("cardCompany")
        let oldNumber = fields.string("cardNumber")
        if card == nil, oldCompany != nil || oldNumber != nil {
            card = TossCard(number: oldNumber, company: oldCompany)
        } else if card != nil {
            if card?.company == nil { card?.company = oldCompany }
            if card?.number == nil { card?.number = oldNumber }
        }
        self.init(billingKey: billingKey, customerKey: customerKey, method: fields.string("method"),
                  authenticatedAt: fields.string("authenticatedAt"), card: card)
    }

    private static func unreadable(_ reason: String) -> TossError {
        TossError(code: TossError.Kind.invalidResponseCode, message: "unreadable Billing object: \(reason)",
                  httpStatus: nil)
    }
}

extension TossBilling: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        var parts = ["customerKey: \(customerKey)"]
        if let method { parts.append("method: \(method)") }
        if let card {
            parts.append("card: \(card.company ?? card.issuerCode ?? "?") \(card.number ?? "")")
        }
        return "TossBilling(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["customerKey": customerKey, "method": method as Any,
                                "authenticatedAt": authenticatedAt as Any, "card": card as Any])
    }
}
