import Billing
import Foundation
import Storage
import Web

/// The lists of the back office, and the columns each may be sorted by. Only these keys ever reach SQL.
enum AdminList: String, Sendable, CaseIterable {
    case plans
    case subscriptions
    case payments
    case users
    case webhookEvents = "webhook-events"

    struct SortColumn: Sendable {
        let sql: String
        /// NULLs sort last in both directions, on SQLite and PostgreSQL alike.
        let nullable: Bool
    }

    var sortColumns: [String: SortColumn] {
        switch self {
        case .plans:
            ["sort_order": .init(sql: "pl.sort_order", nullable: false), "price": .init(sql: "pl.price", nullable: false),
             "amount": .init(sql: "pl.price", nullable: false), "name": .init(sql: "pl.name", nullable: false),
             "created_at": .init(sql: "pl.created_at", nullable: false), "plan_type": .init(sql: "pl.plan_type", nullable: false)]
        case .subscriptions:
            ["created_at": .init(sql: "s.created_at", nullable: false), "updated_at": .init(sql: "s.updated_at", nullable: false),
             "start_date": .init(sql: "s.start_date", nullable: true), "next_billing_date": .init(sql: "s.next_billing_date", nullable: true),
             "status": .init(sql: "s.status", nullable: false), "amount": .init(sql: "p.price", nullable: false),
             "price": .init(sql: "p.price", nullable: false), "username": .init(sql: "u.username_key", nullable: false)]
        case .payments:
            ["created_at": .init(sql: "pa.created_at", nullable: false), "paid_at": .init(sql: "pa.paid_at", nullable: true),
             "amount": .init(sql: "pa.amount", nullable: false), "refunded_amount": .init(sql: "pa.refunded_amount", nullable: false),
             "status": .init(sql: "pa.status", nullable: false)]
        case .users:
            ["created_at": .init(sql: "u.created_at", nullable: false), "username": .init(sql: "u.username_key", nullable: false),
             "email": .init(sql: "u.email", nullable: false), "last_login": .init(sql: "u.last_login", nullable: true)]
        case .webhookEvents:
            ["received_at": .init(sql: "w.received_at", nullable: false), "created_at": .init(sql: "w.received_at", nullable: false),
             "event_type": .init(sql: "w.event_type", nullable: false), "outcome": .init(sql: "w.outcome", nullable: false)]
        }
    }

    var defaultSort: AdminSort {
        switch self {
        case .plans: AdminSort(key: "sort_order", descending: false)
        case .webhookEvents: AdminSort(key: "received_at", descending: true)
        default: AdminSort(key: "created_at", descending: true)
        }
    }

    /// The id column that breaks ties, so a page boundary never drops or repeats a row.
    var tieBreaker: String {
        switch self {
        case .plans: "pl.id"
        case .subscriptions: "s.id"
        case .payments: "pa.id"
        case .users: "u.id"
        case .webhookEvents: "w.id"
        }
    }

    /// The values `status=` accepts for this list.
    func acceptsStatus(_ value: String) -> Bool {
        switch self {
        case .plans: ["ACTIVE", "INACTIVE"].contains(value)
        case .subscriptions, .users: SubscriptionStatus(rawValue: value) != nil
        case .payments: PaymentStatus(rawValue: value) != nil
        // Outcomes are the webhook processor's words; any upper-case word is a fair filter.
        case .webhookEvents: (1...40).contains(value.utf8.count) && value.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || $0 == 95 }
        }
    }
}

/// `sort=created_at` or `sort=-created_at`: a whitelisted key and a direction.
struct AdminSort: Equatable, Sendable {
    let key: String
    let descending: Bool

    static func parse(_ raw: String?, for list: AdminList) throws(AdminError) -> AdminSort {
        guard let raw, !raw.isEmpty else { return list.defaultSort }
        let descending = raw.hasPrefix("-")
        let key = descending ? String(raw.dropFirst()) : raw
        guard list.sortColumns[key] != nil else { throw AdminError.invalidSort(raw) }
        return AdminSort(key: key, descending: descending)
    }

    var parameter: String { (descending ? "-" : "") + key }

    /// `ORDER BY` built only from the whitelist, with the list's id as tie-breaker.
    func orderBy(for list: AdminList) -> String {
        guard let column = list.sortColumns[key] else { preconditionFailure("sort key \(key) is not whitelisted for \(list)") }
        let direction = descending ? "DESC" : "ASC"
        var parts: [String] = []
        if column.nullable { parts.append("CASE WHEN \(column.sql) IS NULL THEN 1 ELSE 0 END ASC") }
        parts.append("\(column.sql) \(direction)")
        parts.append("\(list.tieBreaker) \(direction)")
        return " ORDER BY " + parts.joined(separator: ", ")
    }
}

enum AdminPaging {
    static let perPage = 50
    /// OFFSET paging stops here (10,000 rows); beyond it, narrow the filters.
    static let maxPage = 200

    static func parse(_ raw: String?) throws(AdminError) -> Int {
        guard let raw, !raw.isEmpty else { return 1 }
        guard raw.utf8.count <= 6, let page = Int(raw), (1...maxPage).contains(page) else { throw AdminError.invalidPage(raw) }
        return page
    }

    /// One row more than a page, to learn whether a next page exists without counting.
    static func limitAndOffset(page: Int) -> (limit: Int, offset: Int) { (perPage + 1, (page - 1) * perPage) }
}

/// One page of a list.
struct AdminPage<Item> {
    let items: [Item]
    let page: Int
    let hasNext: Bool

    init(rows: [Item], page: Int) {
        items = Array(rows.prefix(AdminPaging.perPage))
        self.page = page
        hasNext = rows.count > AdminPaging.perPage
    }

    func json(_ render: (Item) -> JSON) -> JSON {
        ["items": .array(items.map(render)), "page": .int(page), "per_page": .int(AdminPaging.perPage), "has_next": .bool(hasNext)]
    }
}

/// The filters, search, sort and page of one list request, validated. Empty parameters (an HTML form's blank fields) filter nothing.
struct AdminListRequest: Sendable {
    let list: AdminList
    var q: String?
    var status: String?
    var planType: String?
    var cycle: String?
    var method: String?
    var eventType: String?
    var staff: Bool?
    var from: Date?
    /// Exclusive upper bound: `to=2025-03-31` means before 2025-04-01 00:00 in the zone.
    var until: Date?
    var sort: AdminSort
    var page: Int

    init(list: AdminList) {
        self.list = list
        sort = list.defaultSort
        page = 1
    }

    static func parse(_ query: QueryParameters, list: AdminList, zone: TimeZone) throws(AdminError) -> AdminListRequest {
        func value(_ names: String...) -> String? {
            for name in names {
                if let text = query[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty { return text }
            }
            return nil
        }
        var request = AdminListRequest(list: list)
        if let q = value("q") {
            guard q.count <= 100 else { throw AdminError.invalidFilter(name: "q", value: q) }
            request.q = q
        }
        if let status = value("status")?.uppercased() {
            guard list.acceptsStatus(status) else { throw AdminError.invalidFilter(name: "status", value: status) }
            request.status = status
        }
        if let planType = value("plan_type")?.uppercased() {
            guard PlanType(rawValue: planType) != nil else { throw AdminError.invalidFilter(name: "plan_type", value: planType) }
            request.planType = planType
        }
        if let cycle = value("cycle", "billing_cycle")?.uppercased() {
            guard BillingCycle(rawValue: cycle) != nil else { throw AdminError.invalidFilter(name: "cycle", value: cycle) }
            request.cycle = cycle
        }
        if let method = value("method", "payment_method") {
            guard method.count <= 50 else { throw AdminError.invalidFilter(name: "method", value: method) }
            request.method = method
        }
        if let type = value("type", "event_type") {
            guard type.count <= 100 else { throw AdminError.invalidFilter(name: "type", value: type) }
            request.eventType = type
        }
        if let staff = value("staff")?.lowercased() {
            switch staff {
            case "1", "true", "yes": request.staff = true
            case "0", "false", "no": request.staff = false
            default: throw AdminError.invalidFilter(name: "staff", value: staff)
            }
        }
        if let from = value("from") {
            guard let date = AdminDates.parse(from, zone: zone, endOfDay: false) else { throw AdminError.invalidFilter(name: "from", value: from) }
            request.from = date
        }
        if let to = value("to") {
            guard let date = AdminDates.parse(to, zone: zone, endOfDay: true) else { throw AdminError.invalidFilter(name: "to", value: to) }
            request.until = date
        }
        request.sort = try AdminSort.parse(value("sort"), for: list)
        request.page = try AdminPaging.parse(value("page"))
        return request
    }

    /// The query string that reproduces this request with some parameters changed (for sort links and pagination).
    func queryString(sort: AdminSort? = nil, page: Int? = nil, zone: TimeZone) -> String {
        var pairs: [(String, String)] = []
        if let q { pairs.append(("q", q)) }
        if let status { pairs.append(("status", status)) }
        if let planType { pairs.append(("plan_type", planType)) }
        if let cycle { pairs.append(("cycle", cycle)) }
        if let method { pairs.append(("method", method)) }
        if let eventType { pairs.append(("type", eventType)) }
        if let staff { pairs.append(("staff", staff ? "1" : "0")) }
        if let from { pairs.append(("from", AdminDates.day(from, zone: zone))) }
        if let until { pairs.append(("to", AdminDates.day(until.addingTimeInterval(-1), zone: zone))) }
        let chosenSort = sort ?? self.sort
        if chosenSort != list.defaultSort { pairs.append(("sort", chosenSort.parameter)) }
        let chosenPage = page ?? self.page
        if chosenPage > 1 { pairs.append(("page", String(chosenPage))) }
        return QueryParameters(pairs).encoded
    }
}

/// `from`/`to` dates of the filters: a calendar day in the zone (`2025-03-01`) or an RFC 3339 instant.
enum AdminDates {
    static func parse(_ text: String, zone: TimeZone, endOfDay: Bool) -> Date? {
        guard let date = RFC3339.parse(text, defaultZone: zone) else { return nil }
        guard endOfDay else { return date }
        if text.utf8.count == 10 { return BillingCalendar(timeZone: zone).addingDays(1, to: date) }
        return date.addingTimeInterval(1)  // times are whole seconds: `<= to` is `< to + 1 s`
    }

    static func day(_ date: Date, zone: TimeZone) -> String { String(RFC3339.format(date, in: zone).prefix(10)) }
}

/// `WHERE` clauses and their parameters, assembled together so a value can only ever travel as a parameter.
struct SQLConditions {
    private(set) var clauses: [String] = []
    private(set) var parameters: [SQLValue] = []

    mutating func add(_ clause: String, _ values: SQLValue...) { add(clause, values) }

    mutating func add(_ clause: String, _ values: [SQLValue]) {
        clauses.append(clause)
        parameters.append(contentsOf: values)
    }

    var sql: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }

    /// A case-insensitive substring pattern for `LOWER(column) LIKE ? ESCAPE '!'`.
    static func containsPattern(_ text: String) -> SQLValue {
        var escaped = ""
        for character in text.lowercased() {
            if character == "!" || character == "%" || character == "_" { escaped.append("!") }
            escaped.append(character)
        }
        return .text("%" + escaped + "%")
    }
}
