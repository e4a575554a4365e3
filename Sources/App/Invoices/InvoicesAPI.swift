import Billing
import Foundation
import Web

/// `GET /api/invoices`, `GET /api/invoices/{id}` and the printable `GET /invoices/{id}` (docs/billing.md#invoices): the signed-in
/// customer's own invoices only; another customer's id is 404.
enum InvoicesAPI {
    static func register(_ table: inout RouteTable) {
        table.api("GET", "/api/invoices", .signedIn, summary: "The user's invoices, newest first",
                  doc: APIDoc(responses: [(200, "InvoiceList"), (401, "Error")])) { exchange in
            let user = try exchange.requireUser()
            let invoices = try exchange.withDatabase { try InvoiceRepository(connection: $0).forUser(user.id) }
            return .json(.array(invoices.map { $0.json(zone: exchange.zone) }))
        }
        table.api("GET", "/api/invoices/{invoice_id}", .signedIn, summary: "One invoice",
                  doc: APIDoc(responses: [(200, "Invoice"), (401, "Error"), (404, "Error")])) { exchange in
            .json(try invoice(exchange).json(zone: exchange.zone))
        }
        table.page("GET", "/invoices/{invoice_id}", .signedIn, summary: "Printable invoice and receipt") { exchange in
            let invoice = try invoice(exchange)
            let payment = try invoice.paidPaymentID.flatMap { id in try exchange.withDatabase { try PaymentRepository(connection: $0).find(id: id) } }
            let subscription = try exchange.withDatabase { try SubscriptionRepository(connection: $0).find(id: invoice.subscriptionID) }
            return .html(Layout.page(title: "청구서 \(invoice.number)", exchange,
                                     body: InvoicePage.body(invoice, payment: payment, subscription: subscription, user: try exchange.requireUser(),
                                                            configuration: exchange.app.configuration)))
        }
    }

    static let notFound = HTTPError(404, code: "INVOICE_NOT_FOUND", message: "청구서를 찾을 수 없습니다.")

    private static func invoice(_ exchange: Exchange) throws -> Invoice {
        let user = try exchange.requireUser()
        guard let id = exchange.path["invoice_id"],
              let invoice = try exchange.withDatabase({ try InvoiceRepository(connection: $0).find(id: id, userID: user.id) }) else { throw notFound }
        return invoice
    }
}

/// The printable invoice / receipt: seller, buyer, lines, 공급가액 / 부가세 / 합계, card and Toss's receipt.
enum InvoicePage {
    static func body(_ invoice: Invoice, payment: Payment?, subscription: Subscription?, user: User, configuration: Configuration) -> String {
        let e = HTML.escape
        let zone = configuration.timeZone
        let period: String
        if let start = invoice.periodStart, let end = invoice.periodEnd {
            period = "\(Format.date(start, zone)) ~ \(Format.date(end.addingTimeInterval(-1), zone))"
        } else {
            period = "결제일부터 \(CycleNames.label(invoice.billingCycle))"
        }
        let lines = invoice.lines.map { line in
            "<tr class=\"line line-\(e(line.kind.rawValue))\"><td>\(e(line.description))</td><td class=\"num\">\(e(Won.format(line.amount)))</td></tr>"
        }.joined()
        let title = invoice.status == .paid ? "영수증" : "청구서"
        var paymentRows = ""
        if let payment, invoice.status == .paid {
            let card = subscription.flatMap { s in s.hasCard ? "\(s.cardCompany ?? "카드") \(s.cardNumber ?? "")" : nil } ?? (payment.paymentMethod ?? "카드")
            paymentRows = """
            <dt>결제일</dt><dd id="invoice-paid-at">\(e(invoice.paidAt.map { Format.dateTime($0, zone) } ?? ""))</dd>
            <dt>결제 수단</dt><dd id="invoice-card">\(e(card))</dd>
            <dt>주문번호</dt><dd><code>\(e(payment.orderID))</code></dd>
            """
            if payment.refundedAmount > 0 {
                paymentRows += "<dt>환불</dt><dd id=\"invoice-refunded\">\(e(Won.format(payment.refundedAmount)))</dd>"
            }
            if let receipt = payment.receiptURL {
                paymentRows += "<dt>카드 영수증</dt><dd><a id=\"toss-receipt\" href=\"\(e(receipt))\" target=\"_blank\" rel=\"noopener\">토스페이먼츠 영수증 보기</a></dd>"
            }
        }
        let business = configuration.sellerBusinessNumber.map { "<dt>사업자등록번호</dt><dd id=\"seller-business-number\">\(e($0))</dd>" } ?? ""
        return """
        <article class="invoice card" id="invoice" data-invoice-id="\(e(invoice.id))" data-status="\(e(invoice.status.rawValue))">
        <header class="invoice-header">
        <h1>\(title) <span class="invoice-number" id="invoice-number">\(e(invoice.number))</span></h1>
        <span class="badge invoice-\(e(invoice.status.rawValue))">\(e(invoice.status.koreanLabel))</span>
        </header>
        <div class="invoice-parties">
        <section><h2>공급자</h2><dl><dt>상호</dt><dd id="seller-name">\(e(configuration.sellerName))</dd>\(business)</dl></section>
        <section><h2>공급받는 자</h2><dl><dt>고객</dt><dd>\(e(user.username))</dd><dt>이메일</dt><dd>\(e(user.email))</dd></dl></section>
        </div>
        <dl class="invoice-meta">
        <dt>발행일</dt><dd>\(e(Format.date(invoice.createdAt, zone)))</dd>
        <dt>요금제</dt><dd>\(e(invoice.planName)) · \(e(Won.format(invoice.planPrice))) / \(e(CycleNames.label(invoice.billingCycle)))</dd>
        <dt>이용 기간</dt><dd id="invoice-period">\(e(period))</dd>
        \(paymentRows)
        </dl>
        <table class="table invoice-lines" id="invoice-lines"><thead><tr><th>항목</th><th>금액</th></tr></thead><tbody>\(lines)</tbody></table>
        <table class="table invoice-totals" id="invoice-totals"><tbody>
        <tr><th>공급가액</th><td class="num" id="invoice-supply">\(e(Won.format(invoice.supplyAmount)))</td></tr>
        <tr><th>부가세</th><td class="num" id="invoice-vat">\(e(Won.format(invoice.vat)))</td></tr>
        <tr class="grand"><th>합계</th><td class="num" id="invoice-total">\(e(Won.format(invoice.total)))</td></tr>
        </tbody></table>
        <p class="muted no-print">금액은 부가세 포함입니다. 브라우저의 인쇄 기능(Ctrl+P)으로 출력하거나 PDF로 저장할 수 있습니다. <a href="/account">내 구독으로</a></p>
        </article>
        """
    }
}
