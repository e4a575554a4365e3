import Foundation
import Storage
import Web
import XCTest

@testable import App

final class AdminListRequestTests: XCTestCase {
    private func parse(_ query: String, _ list: AdminList = .payments) throws -> AdminListRequest {
        try AdminListRequest.parse(QueryParameters(parsing: query), list: list, zone: AdminFixtures.seoul)
    }

    private func refusal(_ query: String, _ list: AdminList = .payments) -> AdminError? {
        do {
            _ = try parse(query, list)
            return nil
        } catch {
            return error as? AdminError
        }
    }

    func testSortAcceptsOnlyWhitelistedKeysInEitherDirection() throws {
        XCTAssertEqual(try AdminSort.parse("amount", for: .payments), AdminSort(key: "amount", descending: false))
        XCTAssertEqual(try AdminSort.parse("-amount", for: .payments), AdminSort(key: "amount", descending: true))
        XCTAssertEqual(try AdminSort.parse(nil, for: .payments), AdminSort(key: "created_at", descending: true))
        XCTAssertEqual(try AdminSort.parse("", for: .plans), AdminSort(key: "sort_order", descending: false))
        for hostile in ["password_hash", "-password_hash", "amount; DROP TABLE payments", "pa.amount", "--amount", "1", "amount desc", "AMOUNT"] {
            XCTAssertThrowsError(try AdminSort.parse(hostile, for: .payments), hostile) { error in
                XCTAssertEqual(error as? AdminError, .invalidSort(hostile))
            }
        }
        // A key valid on one list is not valid on another.
        XCTAssertThrowsError(try AdminSort.parse("last_login", for: .payments))
        XCTAssertNoThrow(try AdminSort.parse("last_login", for: .users))
    }

    func testOrderByIsBuiltOnlyFromTheWhitelistWithATieBreaker() {
        XCTAssertEqual(AdminSort(key: "amount", descending: true).orderBy(for: .payments), " ORDER BY pa.amount DESC, pa.id DESC")
        XCTAssertEqual(AdminSort(key: "paid_at", descending: false).orderBy(for: .payments),
                       " ORDER BY CASE WHEN pa.paid_at IS NULL THEN 1 ELSE 0 END ASC, pa.paid_at ASC, pa.id ASC")
        for list in AdminList.allCases {
            XCTAssertNotNil(list.sortColumns[list.defaultSort.key], "\(list)'s default sort must be whitelisted")
            for (key, column) in list.sortColumns {
                XCTAssertTrue(column.sql.allSatisfy { $0.isLetter || $0 == "_" || $0 == "." }, "\(list).\(key) → \(column.sql)")
            }
        }
    }

    func testPagesAreCappedAndMustBeNumbers() throws {
        XCTAssertEqual(try parse("").page, 1)
        XCTAssertEqual(try parse("page=200").page, 200)
        for bad in ["page=0", "page=-1", "page=201", "page=abc", "page=1e3", "page=99999999999"] {
            guard case .invalidPage = refusal(bad) else { return XCTFail("\(bad) should be refused") }
        }
        XCTAssertTrue(AdminPaging.limitAndOffset(page: 3) == (51, 100))
        let page = AdminPage(rows: Array(0..<51), page: 2)
        XCTAssertEqual(page.items.count, 50)
        XCTAssertTrue(page.hasNext)
        XCTAssertFalse(AdminPage(rows: Array(0..<50), page: 2).hasNext)
    }

    func testFiltersAreValidatedPerList() throws {
        let request = try parse("status=partial_cancelled&method=%EC%B9%B4%EB%93%9C&plan_type=basic&cycle=monthly&q=+kim+")
        XCTAssertEqual(request.status, "PARTIAL_CANCELLED")
        XCTAssertEqual(request.method, "카드")
        XCTAssertEqual(request.planType, "BASIC")
        XCTAssertEqual(request.cycle, "MONTHLY")
        XCTAssertEqual(request.q, "kim")
        XCTAssertEqual(try parse("status=PAST_DUE", .subscriptions).status, "PAST_DUE")
        XCTAssertEqual(try parse("status=INACTIVE", .plans).status, "INACTIVE")
        XCTAssertEqual(try parse("status=APPLIED", .webhookEvents).status, "APPLIED")
        XCTAssertEqual(try parse("staff=1", .users).staff, true)
        XCTAssertEqual(refusal("status=PAST_DUE", .payments), .invalidFilter(name: "status", value: "PAST_DUE"))
        XCTAssertEqual(refusal("status=COMPLETED", .subscriptions), .invalidFilter(name: "status", value: "COMPLETED"))
        XCTAssertEqual(refusal("plan_type=GOLD"), .invalidFilter(name: "plan_type", value: "GOLD"))
        XCTAssertEqual(refusal("cycle=WEEKLY"), .invalidFilter(name: "cycle", value: "WEEKLY"))
        XCTAssertEqual(refusal("staff=maybe", .users), .invalidFilter(name: "staff", value: "maybe"))
        XCTAssertEqual(refusal("status=x'--", .webhookEvents), .invalidFilter(name: "status", value: "X'--"))
        guard case .invalidFilter(name: "q", _) = refusal("q=" + String(repeating: "a", count: 101)) else { return XCTFail("long q") }
        // Blank fields of an HTML form filter nothing.
        let blank = try parse("q=&status=&method=&plan_type=&cycle=&from=&to=&sort=&page=")
        XCTAssertNil(blank.q ?? blank.status ?? blank.method ?? blank.planType ?? blank.cycle)
        XCTAssertNil(blank.from ?? blank.until)
    }

    func testDateRangeIsWholeDaysInSeoulOrExactInstants() throws {
        let request = try parse("from=2025-03-01&to=2025-03-31")
        XCTAssertEqual(request.from, AdminFixtures.at(2025, 3, 1))
        XCTAssertEqual(request.until, AdminFixtures.at(2025, 4, 1))
        let instants = try parse("from=2025-03-01T09:00:00%2B09:00&to=2025-03-01T10:00:00Z")
        XCTAssertEqual(instants.from, AdminFixtures.at(2025, 3, 1, 9))
        XCTAssertEqual(instants.until, AdminFixtures.at(2025, 3, 1, 19, 0, 1))
        XCTAssertEqual(refusal("from=yesterday"), .invalidFilter(name: "from", value: "yesterday"))
        XCTAssertEqual(refusal("to=2025-13-01"), .invalidFilter(name: "to", value: "2025-13-01"))
    }

    func testQueryStringReproducesTheRequest() throws {
        let request = try parse("q=kim&status=FAILED&from=2025-03-01&to=2025-03-31&sort=-amount&page=3")
        let again = try parse(request.queryString(zone: AdminFixtures.seoul))
        XCTAssertEqual(again.q, "kim")
        XCTAssertEqual(again.status, "FAILED")
        XCTAssertEqual(again.from, request.from)
        XCTAssertEqual(again.until, request.until)
        XCTAssertEqual(again.sort, request.sort)
        XCTAssertEqual(again.page, 3)
        XCTAssertEqual(try parse(request.queryString(page: 1, zone: AdminFixtures.seoul)).page, 1)
    }

    func testSearchPatternEscapesLikeWildcards() {
        XCTAssertEqual(SQLConditions.containsPattern("Kim"), .text("%kim%"))
        XCTAssertEqual(SQLConditions.containsPattern("100%_!"), .text("%100!%!_!!%"))
        var conditions = SQLConditions()
        XCTAssertEqual(conditions.sql, "")
        conditions.add("a = ?", .int(1))
        conditions.add("b LIKE ? ESCAPE '!'", [SQLConditions.containsPattern("x")])
        XCTAssertEqual(conditions.sql, " WHERE a = ? AND b LIKE ? ESCAPE '!'")
        XCTAssertEqual(conditions.parameters, [.int(1), .text("%x%")])
    }
}

final class AdminPiecesTests: XCTestCase {
    func testChartAxisCeilingIsRound() {
        XCTAssertEqual(SVGChart.niceCeiling(0), 0)
        XCTAssertEqual(SVGChart.niceCeiling(9_900), 10_000)
        XCTAssertEqual(SVGChart.niceCeiling(87_000), 100_000)
        XCTAssertEqual(SVGChart.niceCeiling(1_230_000), 2_000_000)
        XCTAssertEqual(SVGChart.niceCeiling(3_500_000), 4_000_000)
        XCTAssertEqual(SVGChart.niceCeiling(10_000), 10_000)
    }

    func testCompactWonUsesManAndEok() {
        XCTAssertEqual(SVGChart.compactWon(9_900), "9,900")
        XCTAssertEqual(SVGChart.compactWon(123_000), "12.3만")
        XCTAssertEqual(SVGChart.compactWon(1_990_000), "199만")
        XCTAssertEqual(SVGChart.compactWon(150_000_000), "1.5억")
    }

    func testChartsAreInlineSVGWithLabelsAndNoScript() {
        let svg = SVGChart.columns([SVGChart.Bar(label: "3월", value: 29_700, title: "2025-03 29,700원"),
                                    SVGChart.Bar(label: "<b>", value: 0, title: "x")], id: "chart", caption: "매출")
        XCTAssertTrue(svg.contains("<svg"))
        XCTAssertTrue(svg.contains("data-value=\"29700\""))
        XCTAssertTrue(svg.contains("3월"))
        XCTAssertTrue(svg.contains("&lt;b&gt;"))
        XCTAssertFalse(svg.contains("<script"))
        XCTAssertTrue(SVGChart.rows([], id: "empty", caption: "없음", unit: "개").contains("데이터가 없습니다"))
    }

    func testPlanDraftNeedsTheCoreFieldsAndValidatesThem() {
        var draft = PlanDraft()
        XCTAssertThrowsError(try draft.complete())
        draft.name = "  스타터  "
        draft.planType = "BASIC"
        draft.price = 4_900
        draft.billingCycle = "QUARTERLY"
        draft.features = ["  하나 ", "", "둘"]
        let plan = try? draft.complete()
        XCTAssertEqual(plan?.name, "스타터")
        XCTAssertEqual(plan?.features, ["하나", "둘"])
        XCTAssertEqual(plan?.isActive, true)
        let changes: [(String, (inout PlanDraft) -> Void)] = [
            ("price", { $0.price = 99 }), ("price", { $0.price = 100_000_001 }), ("plan_type", { $0.planType = "GOLD" }),
            ("billing_cycle", { $0.billingCycle = "WEEKLY" }), ("name", { $0.name = "   " }),
            ("features", { $0.features = Array(repeating: "x", count: 21) }),
        ]
        for (field, change) in changes {
            var bad = draft
            change(&bad)
            XCTAssertThrowsError(try bad.complete(), field) { error in
                guard case .invalidField(let name, _) = error as? AdminError else { return XCTFail("\(error)") }
                XCTAssertEqual(name, field)
            }
        }
    }

    func testPlanEditChangesOnlyTheGivenFields() throws {
        let plan = Plan(id: "p", name: "베이직", planType: "BASIC", price: 9_900, billingCycle: "MONTHLY", features: ["a"])
        var draft = PlanDraft()
        draft.price = 12_900
        let edited = try draft.applied(to: plan)
        XCTAssertEqual(edited.price, 12_900)
        XCTAssertEqual(edited.name, "베이직")
        XCTAssertEqual(edited.features, ["a"])
        XCTAssertEqual(edited.billingCycle, "MONTHLY")
    }
}
