import Billing
import Foundation
import Storage
import Toss
import XCTest

@testable import App

/// The money paths of the billing services (subscription service, charger, biller, reconciler, webhook processor) on a real
/// SQLite database, with an in-memory Toss and an explicit clock. The invariant checked throughout: what Toss holds
/// approved, net of refunds, equals what the paid invoices say; the plan served is the plan paid for.
final class BillingServicesTests: XCTestCase {
    private var harness: AppHarness!
    private var toss: ScriptedToss!
    private var services: Services!
    private let now = AppHarness.now
    private let logger = Logger(minimum: .error)

    override func setUpWithError() throws {
        harness = try AppHarness()
        try harness.seedPlans()
        toss = ScriptedToss()
        let client = TossClient(configuration: TossConfiguration(baseURL: "http://toss.test/v1", secretKey: "test_sk_services"), http: toss)
        services = Services(toss: client, quickToss: client, vault: BillingKeyVault(secretKey: AppHarness.secret),
                            calendar: BillingCalendar(timeZone: TimeZone(identifier: "Asia/Seoul")!))
    }

    private func service(at time: Date? = nil) -> SubscriptionService {
        SubscriptionService(database: harness.database, services: services, logger: logger, now: time ?? now)
    }

    private func customer(_ name: String = "buyer\(UUID().uuidString.prefix(6))") throws -> User {
        try harness.app.createUser(username: name, email: "\(name)@example.com", password: "correct-horse", isStaff: false)
    }

    private func planID(_ type: String) throws -> String {
        try harness.database.withConnection { try $0.queryOne("SELECT id FROM plans WHERE plan_type = ?", [.text(type)])!.string("id") }
    }

    private func invoices(_ subscriptionID: String) throws -> [Invoice] {
        try harness.database.withConnection { try InvoiceRepository(connection: $0).forSubscription(subscriptionID) }
    }

    private func subscription(_ id: String) throws -> Subscription {
        try XCTUnwrap(try harness.database.withConnection { try SubscriptionRepository(connection: $0).find(id: id) })
    }

    /// Toss's net approvals for the subscription's orders equal its paid invoices, at most one per period; the plan served
    /// is the first paid invoice's.
    private func assertMoneyInvariant(_ subscriptionID: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let sub = try subscription(subscriptionID)
        let payments = try harness.database.withConnection { try PaymentRepository(connection: $0).forSubscription(subscriptionID) }
        let orders = Set(payments.map(\.orderID))
        let paid = try invoices(subscriptionID).filter { $0.status == .paid }
        XCTAssertEqual(toss.heldNet { orders.contains($0) }, paid.reduce(0) { $0 + $1.total }, "held at Toss vs paid invoices", file: file, line: line)
        XCTAssertEqual(Set(paid.map(\.periodIndex)).count, paid.count, "one paid invoice per period", file: file, line: line)
        if sub.status == .active, let first = paid.first(where: { $0.periodIndex == 0 }) {
            XCTAssertEqual(sub.plan.id, first.planID, "the plan served is the plan paid for", file: file, line: line)
        }
    }

    func testResubscribingWhilePendingVoidsTheOpenInvoiceAndItsOrderNeverReachesToss() throws {
        let user = try customer()
        let basic = try service().subscribe(user: user, planID: try planID("BASIC"), customerKey: nil)
        let order = try service().checkout(user: user, subscriptionID: basic.id)
        XCTAssertEqual(order.amount, 9_900)
        _ = try service().subscribe(user: user, planID: try planID("ENTERPRISE"), customerKey: nil)
        XCTAssertThrowsError(try service().confirm(user: user, paymentKey: "pk_basic", orderID: order.orderID, amount: 9_900)) { error in
            XCTAssertEqual(error as? SubscriptionError, .orderVoid)
        }
        XCTAssertEqual(toss.count("POST", "/v1/payments/confirm"), 0, "a void invoice's order is refused before Toss is called")
        let enterprise = try service().checkout(user: user, subscriptionID: basic.id)
        XCTAssertEqual(enterprise.amount, 199_000)
        let payment = try service().confirm(user: user, paymentKey: "pk_ent", orderID: enterprise.orderID, amount: 199_000)
        XCTAssertEqual(payment.status, .completed)
        XCTAssertEqual(try subscription(basic.id).plan.planType, "ENTERPRISE")
        XCTAssertEqual(try invoices(basic.id).map(\.status).sorted { $0.rawValue < $1.rawValue }, [.paid, .void])
        try assertMoneyInvariant(basic.id)
    }

    func testAnAmbiguousConfirmThenACardRegistrationChargesTheFirstPeriodOnce() throws {
        let user = try customer()
        let pending = try service().subscribe(user: user, planID: try planID("BASIC"), customerKey: nil)
        let order = try service().checkout(user: user, subscriptionID: pending.id)
        toss.fault = { method, path in
            if path == "/v1/payments/confirm" { return .loseAnswerAfterApplying }
            return method == "GET" ? .refuse(status: 500, code: "FAILED_INTERNAL_SYSTEM_PROCESSING") : nil
        }
        XCTAssertThrowsError(try service().confirm(user: user, paymentKey: "pk_first", orderID: order.orderID, amount: 9_900)) { error in
            guard case .pgUnavailable = error as? SubscriptionError else { return XCTFail("want pgUnavailable, got \(error)") }
        }
        XCTAssertThrowsError(try service().issueBillingKey(user: user, customerKey: pending.customerKey, authKey: "auth1")) { error in
            guard case .pgUnavailable = error as? SubscriptionError else { return XCTFail("want pgUnavailable, got \(error)") }
        }
        XCTAssertEqual(toss.count("POST", "/v1/billing/bk_"), 0, "no second charge of period 0 while the confirm is unsettled")
        XCTAssertTrue(try subscription(pending.id).hasCard, "the card is kept")
        toss.fault = { _, _ in nil }
        let summary = try Reconciler(database: harness.database, services: services, logger: logger).run(now: now.addingTimeInterval(120))
        XCTAssertEqual(summary.completed, 1)
        XCTAssertEqual(try subscription(pending.id).status, .active)
        XCTAssertEqual(toss.heldNet(), 9_900)
        try assertMoneyInvariant(pending.id)
    }

    func testAlreadyProcessedWithLookupsDownStaysPendingAndAWebhookLaterCompletesIt() throws {
        let user = try customer()
        let pending = try service().subscribe(user: user, planID: try planID("PREMIUM"), customerKey: nil)
        let order = try service().checkout(user: user, subscriptionID: pending.id)
        toss.fault = { _, path in path == "/v1/payments/confirm" ? .loseAnswerAfterApplying : nil }
        toss.fault = { method, path in
            if path == "/v1/payments/confirm" { return .loseAnswerAfterApplying }
            return method == "GET" ? .refuse(status: 503, code: "FAILED_INTERNAL_SYSTEM_PROCESSING") : nil
        }
        XCTAssertThrowsError(try service().confirm(user: user, paymentKey: "pk_p", orderID: order.orderID, amount: 19_900))
        toss.fault = { method, _ in method == "GET" ? .refuse(status: 503, code: "FAILED_INTERNAL_SYSTEM_PROCESSING") : nil }
        // The retried confirm hears ALREADY_PROCESSED_PAYMENT and cannot look the order up: that proves nothing either way.
        XCTAssertThrowsError(try service().confirm(user: user, paymentKey: "pk_p", orderID: order.orderID, amount: 19_900)) { error in
            guard case .pgUnavailable = error as? SubscriptionError else { return XCTFail("want pgUnavailable, got \(error)") }
        }
        let payment = try XCTUnwrap(try harness.database.withConnection { try PaymentRepository(connection: $0).find(orderID: order.orderID) })
        XCTAssertEqual(payment.status, .pending, "never FAILED without Toss's word")
        toss.fault = { _, _ in nil }
        let processor = WebhookProcessor(database: harness.database, services: services, logger: logger, toss: services.toss, now: now)
        let (outcome, _) = try processor.process(eventType: "PAYMENT_STATUS_CHANGED", data: ["paymentKey": "pk_p", "orderId": .string(order.orderID)])
        XCTAssertEqual(outcome, .applied)
        XCTAssertEqual(try subscription(pending.id).status, .active)
        try assertMoneyInvariant(pending.id)
    }

    func testAFailedPaymentThatTossApprovedIsRepairedByTheWebhook() throws {
        let user = try customer()
        let pending = try service().subscribe(user: user, planID: try planID("BASIC"), customerKey: nil)
        let order = try service().checkout(user: user, subscriptionID: pending.id)
        _ = try service().confirm(user: user, paymentKey: "pk_r", orderID: order.orderID, amount: 9_900)
        // Simulate the old defect's leftovers: the payment recorded FAILED and the invoice open, though Toss approved.
        try harness.execute("UPDATE payments SET status = 'FAILED' WHERE order_id = ?", [.text(order.orderID)])
        try harness.execute("UPDATE invoices SET status = 'OPEN', paid_payment_id = NULL WHERE subscription_id = ?", [.text(pending.id)])
        try harness.execute("UPDATE subscriptions SET status = 'PENDING', anchor_at = NULL WHERE id = ?", [.text(pending.id)])
        let processor = WebhookProcessor(database: harness.database, services: services, logger: logger, toss: services.toss, now: now)
        let (outcome, detail) = try processor.process(eventType: "PAYMENT_STATUS_CHANGED", data: ["paymentKey": "pk_r", "orderId": .string(order.orderID)])
        XCTAssertEqual(outcome, .applied, detail)
        XCTAssertTrue(detail.hasPrefix("FAILED → COMPLETED"), detail)
        XCTAssertEqual(try subscription(pending.id).status, .active)
        try assertMoneyInvariant(pending.id)
    }

    private func activeSubscription(plan: String = "BASIC") throws -> (User, Subscription) {
        let user = try customer()
        let pending = try service().subscribe(user: user, planID: try planID(plan), customerKey: nil)
        let active = try service().issueBillingKey(user: user, customerKey: pending.customerKey, authKey: "auth-" + pending.id)
        XCTAssertEqual(active.status, .active)
        return (user, active)
    }

    func testARenewalApprovedAfterTheCustomerCancelledIsRefundedVisibly() throws {
        let (user, active) = try activeSubscription()
        let due = try XCTUnwrap(active.nextBillingDate)
        toss.fault = { method, path in
            if method == "POST", path.hasPrefix("/v1/billing/bk_") { return .loseAnswerAfterApplying }
            return method == "GET" ? .refuse(status: 500, code: "FAILED_INTERNAL_SYSTEM_PROCESSING") : nil
        }
        let pass = try Biller(database: harness.database, services: services, logger: logger, concurrency: 1).run(now: due)
        XCTAssertEqual(pass.pending, 1)
        _ = try service(at: due.addingTimeInterval(60)).cancel(user: user, subscriptionID: active.id, atPeriodEnd: false)
        XCTAssertEqual(try invoices(active.id).first { $0.periodIndex == 1 }?.status, .void)
        toss.fault = { _, _ in nil }
        let summary = try Reconciler(database: harness.database, services: services, logger: logger).run(now: due.addingTimeInterval(600))
        XCTAssertEqual(summary.refunded, 1, "\(summary)")
        XCTAssertEqual(toss.heldNet(), 9_900, "only the first period stays paid")
        let audit = try harness.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'payment.surplus_refund'")
        XCTAssertEqual(audit, 1)
        try assertMoneyInvariant(active.id)
    }

    func testARenewalTossNeverReceivedIsFailedOnceTheCustomerHasLeft() throws {
        let (user, active) = try activeSubscription()
        let due = try XCTUnwrap(active.nextBillingDate)
        toss.fault = { method, path in method == "POST" && path.hasPrefix("/v1/billing/bk_") ? .timeOutBeforeApplying : nil }
        XCTAssertEqual(try Biller(database: harness.database, services: services, logger: logger, concurrency: 1).run(now: due).pending, 1)
        _ = try service(at: due.addingTimeInterval(60)).cancel(user: user, subscriptionID: active.id, atPeriodEnd: false)
        toss.fault = { _, _ in nil }
        let reconciler = Reconciler(database: harness.database, services: services, logger: logger)
        XCTAssertEqual(try reconciler.run(now: due.addingTimeInterval(120)).stillPending, 1, "too young to call unsent")
        XCTAssertEqual(try reconciler.run(now: due.addingTimeInterval(600)).failed, 1)
        let renewal = try XCTUnwrap(try harness.database.withConnection { try PaymentRepository(connection: $0).attempts(subscriptionID: active.id, periodIndex: 1) }.first)
        XCTAssertEqual(renewal.status, .failed)
        XCTAssertEqual(renewal.failureCode, "NOT_SENT")
        XCTAssertEqual(toss.heldNet(), 9_900)
        try assertMoneyInvariant(active.id)
    }

    func testAnUnreadableBillingKeyStopsChargingWithoutDunning() throws {
        let (_, active) = try activeSubscription()
        let foreign = BillingKeyVault(secretKey: "another-secret-key-0123456789abcdefghijklmnop").seal("bk_x", subscriptionID: active.id)
        try harness.execute("UPDATE subscriptions SET billing_key_sealed = ? WHERE id = ?", [.text(foreign), .text(active.id)])
        let due = try XCTUnwrap(active.nextBillingDate)
        let calls = toss.calls.count
        _ = try Biller(database: harness.database, services: services, logger: logger, concurrency: 1).run(now: due)
        let after = try subscription(active.id)
        XCTAssertEqual(after.status, .active, "the customer is not dunned for the operator's fault")
        XCTAssertEqual(after.failedAttempts, 0)
        XCTAssertEqual(after.chargeBlocked, "BILLING_KEY_UNREADABLE")
        XCTAssertEqual(toss.calls.count, calls, "nothing was sent to Toss")
    }

    func testTheBillerRunTwiceChargesNothingNew() throws {
        let (_, active) = try activeSubscription()
        let due = try XCTUnwrap(active.nextBillingDate)
        let biller = Biller(database: harness.database, services: services, logger: logger, concurrency: 2)
        XCTAssertEqual(try biller.run(now: due).charged, 1)
        XCTAssertEqual(try Biller(database: harness.database, services: services, logger: logger).run(now: due).charged, 0)
        XCTAssertEqual(toss.heldNet(), 19_800)
        XCTAssertEqual(try invoices(active.id).map(\.status), [.paid, .paid])
        try assertMoneyInvariant(active.id)
    }

    func testAWriteOnAStaleVersionLosesExplicitly() throws {
        let (user, active) = try activeSubscription()
        let stale = try subscription(active.id)
        _ = try service().cancel(user: user, subscriptionID: active.id, atPeriodEnd: true)
        let outcome = try harness.database.withConnection { connection in
            try SubscriptionLifecycle(connection: connection, services: services, now: now).apply(.renewalSucceeded(periodIndex: 1), to: stale)
        }
        guard case .lostRace = outcome else { return XCTFail("a stale write must lose, got \(outcome)") }
        XCTAssertTrue(try subscription(active.id).cancelAtPeriodEnd, "the cancel is not overwritten")
    }
}
