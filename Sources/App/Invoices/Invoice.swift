import Billing
import Foundation
import Storage
import Web

/// What one period (or one mid-period change) of a subscription costs, frozen when it was made.
struct Invoice: Sendable {
    enum Kind: String { case period = "PERIOD", change = "CHANGE" }

    var id: String
    var number: String
    var subscriptionID: String
    var userID: String
    var kind: Kind
    var periodIndex: Int
    var planID: String
    var planName: String
    var planPrice: Int
    var billingCycle: String
    var periodStart: Date?
    var periodEnd: Date?
    var lines: [InvoiceLine]
    var subtotal: Int
    var discount: Int
    var total: Int
    var supplyAmount: Int
    var vat: Int
    var status: InvoiceStatus
    var paidPaymentID: String?
    var paidAt: Date?
    var createdAt: Date
    var couponID: String?

    /// The invoice a draft becomes once inserted with its id and number.
    init(id: String, number: String, draft: InvoiceRepository.Draft, totals: InvoiceTotals, status: InvoiceStatus, paidPaymentID: String?,
         paidAt: Date?, createdAt: Date) {
        self.id = id
        self.number = number
        subscriptionID = draft.subscriptionID
        userID = draft.userID
        kind = draft.kind
        periodIndex = draft.periodIndex
        planID = draft.plan.id
        planName = draft.plan.name
        planPrice = draft.plan.price
        billingCycle = draft.plan.billingCycle
        periodStart = draft.periodStart
        periodEnd = draft.periodEnd
        lines = draft.lines
        subtotal = totals.subtotal
        discount = totals.discount
        total = totals.total
        supplyAmount = totals.supplyAmount
        vat = totals.vat
        self.status = status
        self.paidPaymentID = paidPaymentID
        self.paidAt = paidAt
        self.createdAt = Date(unixSeconds: Int(createdAt.unixSeconds))
        couponID = draft.couponID
    }

    init(row: Row) throws {
        id = row.string("id")
        number = row.string("number")
        subscriptionID = row.string("subscription_id")
        userID = row.string("user_id")
        kind = try row.word("kind")
        periodIndex = row.int("period_index")
        planID = row.string("plan_id")
        planName = row.string("plan_name")
        planPrice = row.int("plan_price")
        billingCycle = row.string("billing_cycle")
        periodStart = row.optionalInt("period_start").map(Date.init(unixSeconds:))
        periodEnd = row.optionalInt("period_end").map(Date.init(unixSeconds:))
        lines = Invoice.decodeLines(row.string("lines"))
        subtotal = row.int("subtotal")
        discount = row.int("discount")
        total = row.int("total")
        supplyAmount = row.int("supply_amount")
        vat = row.int("vat")
        status = try row.word("status")
        paidPaymentID = row.optionalString("paid_payment_id")
        paidAt = row.optionalInt("paid_at").map(Date.init(unixSeconds:))
        createdAt = Date(unixSeconds: row.int("created_at"))
        couponID = row.optionalString("coupon_id")
    }

    /// "베이직 월간 구독", the order name Toss shows the buyer.
    var orderName: String { "\(planName) \(CycleNames.label(billingCycle)) 구독" }

    static func linesJSON(_ lines: [InvoiceLine]) -> JSON {
        .array(lines.map { ["kind": .string($0.kind.rawValue), "description": .string($0.description), "amount": .int($0.amount)] })
    }

    static func encodeLines(_ lines: [InvoiceLine]) -> String { linesJSON(lines).serializedString() }

    static func decodeLines(_ text: String) -> [InvoiceLine] {
        ((try? JSON.parse(text))?.arrayValue ?? []).compactMap { line in
            guard let kind = line["kind"]?.stringValue.flatMap(InvoiceLineKind.init(rawValue:)), let amount = line["amount"]?.intValue else { return nil }
            return InvoiceLine(kind: kind, description: line["description"]?.stringValue ?? "", amount: amount)
        }
    }

    func json(zone: TimeZone) -> JSON {
        func time(_ date: Date?) -> JSON { date.map { .string(RFC3339.format($0, in: zone)) } ?? .null }
        return ["id": .string(id), "number": .string(number), "subscription_id": .string(subscriptionID),
                "plan": ["id": .string(planID), "name": .string(planName), "price": .int(planPrice), "billing_cycle": .string(billingCycle)],
                "period_start": time(periodStart), "period_end": time(periodEnd),
                "lines": Invoice.linesJSON(lines),
                "subtotal": .int(subtotal), "discount": .int(discount), "total": .int(total), "supply_amount": .int(supplyAmount), "vat": .int(vat),
                "currency": "KRW", "status": .string(status.rawValue), "paid_at": time(paidAt), "created_at": time(createdAt)]
    }
}
