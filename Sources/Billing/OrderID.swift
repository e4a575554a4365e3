import Foundation

/// Toss order ids made by gudok. A renewal's order id is deterministic per
/// (subscription, period, attempt) and doubles as the charge's Idempotency-Key,
/// so re-sending an ambiguous attempt can never charge twice.
public enum OrderID {
    /// `sub-<32 lowercase hex>-p<periodIndex>-a<attempt>`, e.g.
    /// `sub-3f2a…9c01-p12-a2`: 46 characters at period 9999 and attempt 99,
    /// within Toss's 64.
    ///
    /// `subscriptionID` must be a UUID string (any case, with dashes); ids are
    /// UUIDs everywhere in gudok, so anything else is a programming error.
    public static func renewal(subscriptionID: String, periodIndex: Int, attempt: Int) -> String {
        guard let uuid = UUID(uuidString: subscriptionID) else {
            preconditionFailure("subscription id is not a UUID: \(subscriptionID)")
        }
        return renewal(subscriptionID: uuid, periodIndex: periodIndex, attempt: attempt)
    }

    public static func renewal(subscriptionID: UUID, periodIndex: Int, attempt: Int) -> String {
        precondition(periodIndex >= 0 && attempt >= 1, "period \(periodIndex), attempt \(attempt)")
        let hex = String(subscriptionID.uuidString.lowercased().filter { $0 != "-" })
        return "sub-\(hex)-p\(periodIndex)-a\(attempt)"
    }

    /// `chg-<32 lowercase hex>`: the charge of one mid-period plan change, named by its invoice (36 characters).
    public static func change(invoiceID: String) -> String {
        guard let uuid = UUID(uuidString: invoiceID) else { preconditionFailure("invoice id is not a UUID: \(invoiceID)") }
        return "chg-" + uuid.uuidString.lowercased().filter { $0 != "-" }
    }

    /// Toss's orderId rule for the server APIs: 6–64 characters of `[A-Za-z0-9_-]`.
    public static func isValidTossOrderID(_ s: String) -> Bool {
        let bytes = s.utf8
        guard (6...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
    }
}
