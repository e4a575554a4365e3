/// What an invoice line is for.
public enum InvoiceLineKind: String, Sendable, CaseIterable {
    case plan = "PLAN"
    case proration = "PRORATION"
    case discount = "DISCOUNT"
    case credit = "CREDIT"
}

/// One line of an invoice, in won. DISCOUNT and CREDIT lines are negative.
public struct InvoiceLine: Sendable, Equatable {
    public var kind: InvoiceLineKind
    public var description: String
    public var amount: Int

    public init(kind: InvoiceLineKind, description: String, amount: Int) {
        self.kind = kind
        self.description = description
        self.amount = amount
    }
}

/// An invoice's figures, computed from its lines. Prices include VAT (10%): the VAT is the part of the total that
/// Toss itself reports, `round(total ÷ 11)`, and the supply amount is the rest.
public struct InvoiceTotals: Sendable, Equatable {
    /// The charges before reductions: PLAN and PRORATION lines.
    public let subtotal: Int
    /// What DISCOUNT and CREDIT lines take off, as a positive amount (never more than the subtotal).
    public let discount: Int
    public let total: Int
    public let supplyAmount: Int
    public let vat: Int

    public init(lines: [InvoiceLine]) {
        let charges = lines.filter { $0.kind == .plan || $0.kind == .proration }.reduce(0) { $0 + $1.amount }
        let reductions = lines.filter { $0.kind == .discount || $0.kind == .credit }.reduce(0) { $0 - $1.amount }
        subtotal = charges
        discount = min(max(0, reductions), max(0, charges))
        total = max(0, charges - discount)
        vat = VAT.included(in: total)
        supplyAmount = total - vat
    }
}

public enum VAT {
    /// The VAT inside a VAT-inclusive amount: `amount ÷ 11` rounded half up (a remainder can never be exactly half).
    public static func included(in amount: Int) -> Int {
        precondition(amount >= 0, "VAT of a negative amount")
        return (amount + 5) / 11
    }
}

/// What an invoice says about its money.
public enum InvoiceStatus: String, Sendable, CaseIterable {
    /// Owed and not yet paid.
    case open = "OPEN"
    /// Paid by exactly one payment.
    case paid = "PAID"
    /// Withdrawn before it was paid (the customer chose another plan, or left); nothing is owed.
    case void = "VOID"
    /// Dunning gave up: owed, never collected.
    case uncollectible = "UNCOLLECTIBLE"
}

extension InvoiceStatus {
    public var koreanLabel: String {
        switch self {
        case .open: "결제 대기"
        case .paid: "결제 완료"
        case .void: "무효"
        case .uncollectible: "회수 불가"
        }
    }
}

/// What a coupon takes off one period's price: a percentage rounded half up to the won, or a fixed amount; never more
/// than the price.
public enum CouponDiscount {
    public static func amount(price: Int, percentOff: Int?, amountOff: Int?) -> Int {
        if let percentOff { return min(price, (price * percentOff + 50) / 100) }
        if let amountOff { return min(price, max(0, amountOff)) }
        return 0
    }
}
