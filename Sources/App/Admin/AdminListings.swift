import Foundation
import Storage

/// The back office's list queries. Every value travels as a parameter; sort columns come from `AdminList`'s whitelist;
/// filters land on indexed columns (see the "admin indexes" migration).
struct AdminListings {
    let connection: DatabaseConnection

    private func page<Item>(_ select: String, _ conditions: SQLConditions, _ request: AdminListRequest, _ make: (Row) throws -> Item) throws -> AdminPage<Item> {
        let (limit, offset) = AdminPaging.limitAndOffset(page: request.page)
        let sql = select + conditions.sql + request.sort.orderBy(for: request.list) + " LIMIT ? OFFSET ?"
        let rows = try connection.query(sql, conditions.parameters + [.int(Int64(limit)), .int(Int64(offset))])
        return AdminPage(rows: try rows.map(make), page: request.page)
    }

    private func addCreatedRange(_ conditions: inout SQLConditions, column: String, _ request: AdminListRequest) {
        if let from = request.from { conditions.add("\(column) >= ?", .int(from.unixSeconds)) }
        if let until = request.until { conditions.add("\(column) < ?", .int(until.unixSeconds)) }
    }

    // MARK: plans

    static let planSelect = """
        SELECT pl.*, (SELECT COUNT(*) FROM subscriptions sx WHERE sx.plan_id = pl.id) AS subscription_count,
        (SELECT COUNT(*) FROM subscriptions sx WHERE sx.plan_id = pl.id AND sx.status IN ('ACTIVE', 'PAST_DUE')) AS live_count
        FROM plans pl
        """

    func plans(_ request: AdminListRequest) throws -> AdminPage<AdminPlanRow> {
        var conditions = SQLConditions()
        if let status = request.status { conditions.add("pl.is_active = ?", .bool(status == "ACTIVE")) }
        if let planType = request.planType { conditions.add("pl.plan_type = ?", .text(planType)) }
        if let cycle = request.cycle { conditions.add("pl.billing_cycle = ?", .text(cycle)) }
        addCreatedRange(&conditions, column: "pl.created_at", request)
        if let q = request.q { conditions.add("LOWER(pl.name) LIKE ? ESCAPE '!'", SQLConditions.containsPattern(q)) }
        return try page(Self.planSelect, conditions, request, AdminPlanRow.init(row:))
    }

    func plan(id: String) throws -> AdminPlanRow? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne(Self.planSelect + " WHERE pl.id = ?", [.text(canonical)]).map(AdminPlanRow.init(row:))
    }

    // MARK: subscriptions

    static let subscriptionSelect = """
        SELECT \(Subscription.selectColumns), u.username AS owner_username, u.email AS owner_email
        FROM \(Subscription.fromTables) JOIN users u ON u.id = s.user_id
        """

    func subscriptions(_ request: AdminListRequest) throws -> AdminPage<AdminSubscriptionRow> {
        var conditions = SQLConditions()
        if let status = request.status { conditions.add("s.status = ?", .text(status)) }
        if let planType = request.planType { conditions.add("p.plan_type = ?", .text(planType)) }
        if let cycle = request.cycle { conditions.add("p.billing_cycle = ?", .text(cycle)) }
        if let method = request.method {
            conditions.add("EXISTS (SELECT 1 FROM payments px WHERE px.subscription_id = s.id AND px.payment_method = ?)", .text(method))
        }
        addCreatedRange(&conditions, column: "s.created_at", request)
        if let q = request.q {
            let pattern = SQLConditions.containsPattern(q)
            conditions.add("""
                (LOWER(u.username) LIKE ? ESCAPE '!' OR LOWER(u.email) LIKE ? ESCAPE '!' OR LOWER(s.customer_key) LIKE ? ESCAPE '!'
                OR EXISTS (SELECT 1 FROM payments px WHERE px.subscription_id = s.id AND (px.order_id = ? OR px.payment_key = ?)))
                """, pattern, pattern, pattern, .text(q), .text(q))
        }
        return try page(Self.subscriptionSelect, conditions, request, AdminSubscriptionRow.init(row:))
    }

    func subscription(id: String) throws -> AdminSubscriptionRow? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne(Self.subscriptionSelect + " WHERE s.id = ?", [.text(canonical)]).map(AdminSubscriptionRow.init(row:))
    }

    func subscriptions(userID: String) throws -> [AdminSubscriptionRow] {
        try connection.query(Self.subscriptionSelect + " WHERE s.user_id = ? ORDER BY s.created_at DESC, s.id DESC", [.text(userID)])
            .map(AdminSubscriptionRow.init(row:))
    }

    // MARK: payments

    static let paymentSelect = """
        SELECT pa.*, u.username AS owner_username, u.email AS owner_email, s.customer_key AS owner_customer_key, p.name AS owner_plan_name
        FROM payments pa JOIN users u ON u.id = pa.user_id JOIN subscriptions s ON s.id = pa.subscription_id JOIN plans p ON p.id = s.plan_id
        """

    func payments(_ request: AdminListRequest) throws -> AdminPage<AdminPaymentRow> {
        var conditions = SQLConditions()
        if let status = request.status { conditions.add("pa.status = ?", .text(status)) }
        if let method = request.method { conditions.add("pa.payment_method = ?", .text(method)) }
        if let planType = request.planType { conditions.add("p.plan_type = ?", .text(planType)) }
        if let cycle = request.cycle { conditions.add("p.billing_cycle = ?", .text(cycle)) }
        addCreatedRange(&conditions, column: "pa.created_at", request)
        if let q = request.q {
            // An order id, paymentKey or customer_key is found through its unique index; only other text falls back to a
            // substring search, which no B-tree index can serve.
            let exact = try connection.query(Self.exactPaymentSearch, [.text(q), .text(q), .text(q)]).prefix(1000).map { SQLValue.text($0.string("id")) }
            if exact.isEmpty {
                let pattern = SQLConditions.containsPattern(q)
                conditions.add("""
                    (LOWER(u.username) LIKE ? ESCAPE '!' OR LOWER(u.email) LIKE ? ESCAPE '!' OR LOWER(s.customer_key) LIKE ? ESCAPE '!'
                    OR LOWER(pa.order_id) LIKE ? ESCAPE '!' OR LOWER(pa.payment_key) LIKE ? ESCAPE '!')
                    """, pattern, pattern, pattern, pattern, pattern)
            } else {
                conditions.add("pa.id IN (" + Array(repeating: "?", count: exact.count).joined(separator: ", ") + ")", Array(exact))
            }
        }
        return try page(Self.paymentSelect, conditions, request, AdminPaymentRow.init(row:))
    }

    static let exactPaymentSearch = """
        SELECT id FROM payments WHERE order_id = ? UNION SELECT id FROM payments WHERE payment_key = ?
        UNION SELECT px.id FROM payments px JOIN subscriptions sx ON sx.id = px.subscription_id WHERE sx.customer_key = ?
        """

    func payment(id: String) throws -> AdminPaymentRow? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne(Self.paymentSelect + " WHERE pa.id = ?", [.text(canonical)]).map(AdminPaymentRow.init(row:))
    }

    func payments(subscriptionID: String) throws -> [AdminPaymentRow] {
        try connection.query(Self.paymentSelect + " WHERE pa.subscription_id = ? ORDER BY pa.created_at DESC, pa.attempt DESC, pa.id DESC",
                             [.text(subscriptionID)]).map(AdminPaymentRow.init(row:))
    }

    func payments(userID: String, limit: Int) throws -> [AdminPaymentRow] {
        try connection.query(Self.paymentSelect + " WHERE pa.user_id = ? ORDER BY pa.created_at DESC, pa.id DESC LIMIT ?",
                             [.text(userID), .int(Int64(limit))]).map(AdminPaymentRow.init(row:))
    }

    // MARK: users

    static let userSelect = """
        SELECT u.id, u.username, u.email, u.is_staff, u.is_active, u.created_at, u.last_login,
        (SELECT COUNT(*) FROM subscriptions sx WHERE sx.user_id = u.id) AS subscription_count,
        (SELECT sx.status FROM subscriptions sx WHERE sx.user_id = u.id ORDER BY sx.created_at DESC, sx.id DESC LIMIT 1) AS latest_status
        FROM users u
        """

    func users(_ request: AdminListRequest) throws -> AdminPage<AdminUserRow> {
        var conditions = SQLConditions()
        if let staff = request.staff { conditions.add("u.is_staff = ?", .bool(staff)) }
        if let status = request.status {
            conditions.add("EXISTS (SELECT 1 FROM subscriptions sx WHERE sx.user_id = u.id AND sx.status = ?)", .text(status))
        }
        if request.planType != nil || request.cycle != nil {
            var clause = "EXISTS (SELECT 1 FROM subscriptions sx JOIN plans px ON px.id = sx.plan_id WHERE sx.user_id = u.id"
            var values: [SQLValue] = []
            if let planType = request.planType {
                clause += " AND px.plan_type = ?"
                values.append(.text(planType))
            }
            if let cycle = request.cycle {
                clause += " AND px.billing_cycle = ?"
                values.append(.text(cycle))
            }
            conditions.add(clause + ")", values)
        }
        if let method = request.method {
            conditions.add("EXISTS (SELECT 1 FROM payments px WHERE px.user_id = u.id AND px.payment_method = ?)", .text(method))
        }
        addCreatedRange(&conditions, column: "u.created_at", request)
        if let q = request.q {
            let pattern = SQLConditions.containsPattern(q)
            conditions.add("""
                (LOWER(u.username) LIKE ? ESCAPE '!' OR LOWER(u.email) LIKE ? ESCAPE '!'
                OR EXISTS (SELECT 1 FROM subscriptions sx WHERE sx.user_id = u.id AND sx.customer_key = ?)
                OR EXISTS (SELECT 1 FROM payments px WHERE px.user_id = u.id AND (px.order_id = ? OR px.payment_key = ?)))
                """, pattern, pattern, .text(q), .text(q), .text(q))
        }
        return try page(Self.userSelect, conditions, request, AdminUserRow.init(row:))
    }

    func user(id: String) throws -> AdminUserRow? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne(Self.userSelect + " WHERE u.id = ?", [.text(canonical)]).map(AdminUserRow.init(row:))
    }

    // MARK: webhook events

    static let webhookSelect = "SELECT w.id, w.event_type, w.transmission_id, w.payment_key, w.received_at, w.outcome, w.detail FROM webhook_events w"

    func webhookEvents(_ request: AdminListRequest) throws -> AdminPage<AdminWebhookEventRow> {
        var conditions = SQLConditions()
        if let type = request.eventType { conditions.add("w.event_type = ?", .text(type)) }
        if let outcome = request.status { conditions.add("w.outcome = ?", .text(outcome)) }
        addCreatedRange(&conditions, column: "w.received_at", request)
        if let q = request.q {
            let pattern = SQLConditions.containsPattern(q)
            conditions.add("(LOWER(w.transmission_id) LIKE ? ESCAPE '!' OR LOWER(w.payment_key) LIKE ? ESCAPE '!')", pattern, pattern)
        }
        return try page(Self.webhookSelect, conditions, request) { AdminWebhookEventRow(row: $0) }
    }

    func webhookEvent(id: String) throws -> AdminWebhookEventRow? {
        guard let canonical = Identifier.canonical(id) else { return nil }
        return try connection.queryOne("SELECT * FROM webhook_events w WHERE w.id = ?", [.text(canonical)])
            .map { AdminWebhookEventRow(row: $0, withPayload: true) }
    }
}
