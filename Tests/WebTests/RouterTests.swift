import XCTest
@testable import Web

final class RouterTests: XCTestCase {
    private func makeRouter() -> Router<String> {
        var router = Router<String>()
        router.add("GET", "/healthz", "health")
        router.add("GET", "/api/subscriptions/plans", "plans")
        router.add("POST", "/api/subscriptions/subscribe", "subscribe")
        router.add("POST", "/api/subscriptions/{subscription_id}/checkout", "checkout")
        router.add("POST", "/api/subscriptions/cancel/{subscription_id}", "cancel")
        router.add("GET", "/api/items/{id}", "item.get")
        router.add("DELETE", "/api/items/{id}", "item.delete")
        router.add("GET", "/", "home")
        return router
    }

    private func target(_ match: Router<String>.Match, file: StaticString = #filePath, line: UInt = #line) -> (String, [String: String])? {
        guard case .found(let route, let parameters) = match else {
            XCTFail("expected a route, got \(match)", file: file, line: line)
            return nil
        }
        return (route.target, parameters)
    }

    func testExactRouteMatchesWithoutParameters() {
        let found = target(makeRouter().match(method: "GET", path: "/api/subscriptions/plans"))
        XCTAssertEqual(found?.0, "plans")
        XCTAssertEqual(found?.1, [:])
    }

    func testRootPathMatches() {
        XCTAssertEqual(target(makeRouter().match(method: "GET", path: "/"))?.0, "home")
    }

    func testParameterSegmentIsCaptured() {
        let found = target(makeRouter().match(method: "POST", path: "/api/subscriptions/0b5c7e1a-1111-4222-8333-944455556666/checkout"))
        XCTAssertEqual(found?.0, "checkout")
        XCTAssertEqual(found?.1, ["subscription_id": "0b5c7e1a-1111-4222-8333-944455556666"])
    }

    func testLiteralSegmentWinsOnlyWhereItMatches() {
        let found = target(makeRouter().match(method: "POST", path: "/api/subscriptions/cancel/abc"))
        XCTAssertEqual(found?.0, "cancel")
        XCTAssertEqual(found?.1, ["subscription_id": "abc"])
    }

    func testUnknownPathIsNotFound() {
        let match = makeRouter().match(method: "GET", path: "/nope")
        guard case .notFound = match else { return XCTFail("expected notFound, got \(match)") }
    }

    func testPathWithExtraSegmentIsNotFound() {
        let match = makeRouter().match(method: "GET", path: "/api/items/1/extra")
        guard case .notFound = match else { return XCTFail("expected notFound, got \(match)") }
    }

    func testEmptyParameterSegmentDoesNotMatch() {
        let match = makeRouter().match(method: "GET", path: "/api/items//")
        guard case .notFound = match else { return XCTFail("expected notFound for an empty {id}, got \(match)") }
        let doubled = makeRouter().match(method: "POST", path: "/api/subscriptions//checkout")
        guard case .notFound = doubled else { return XCTFail("expected notFound for an empty {subscription_id}, got \(doubled)") }
    }

    func testKnownPathWithWrongMethodIsMethodNotAllowedWithAllowedMethods() {
        let match = makeRouter().match(method: "POST", path: "/api/subscriptions/plans")
        guard case .methodNotAllowed(let allowed) = match else { return XCTFail("expected 405, got \(match)") }
        XCTAssertEqual(allowed, ["GET"])
    }

    func testParameterPathWithWrongMethodListsEveryAllowedMethod() {
        let match = makeRouter().match(method: "PUT", path: "/api/items/42")
        guard case .methodNotAllowed(let allowed) = match else { return XCTFail("expected 405, got \(match)") }
        XCTAssertEqual(allowed.sorted(), ["DELETE", "GET"])
    }

    func testGetOnPostOnlyRouteIsMethodNotAllowed() {
        let match = makeRouter().match(method: "GET", path: "/api/subscriptions/subscribe")
        guard case .methodNotAllowed(let allowed) = match else { return XCTFail("expected 405, got \(match)") }
        XCTAssertEqual(allowed, ["POST"])
    }

    func testHeadIsServedByTheGetRoute() {
        XCTAssertEqual(target(makeRouter().match(method: "HEAD", path: "/healthz"))?.0, "health")
        let found = target(makeRouter().match(method: "HEAD", path: "/api/items/7"))
        XCTAssertEqual(found?.0, "item.get")
        XCTAssertEqual(found?.1, ["id": "7"])
    }

    func testHeadOnPostOnlyRouteIsMethodNotAllowed() {
        let match = makeRouter().match(method: "HEAD", path: "/api/subscriptions/subscribe")
        guard case .methodNotAllowed(let allowed) = match else { return XCTFail("expected 405, got \(match)") }
        XCTAssertEqual(allowed, ["POST"])
    }

    func testTrailingSlashMatchesTheSameRoute() {
        XCTAssertEqual(target(makeRouter().match(method: "GET", path: "/api/subscriptions/plans/"))?.0, "plans")
        let found = target(makeRouter().match(method: "GET", path: "/api/items/9/"))
        XCTAssertEqual(found?.0, "item.get")
        XCTAssertEqual(found?.1, ["id": "9"])
    }

    func testMatchingIsCaseSensitive() {
        let match = makeRouter().match(method: "GET", path: "/HEALTHZ")
        guard case .notFound = match else { return XCTFail("expected notFound, got \(match)") }
    }

    func testRouteRecordsItsPattern() {
        guard case .found(let route, _) = makeRouter().match(method: "DELETE", path: "/api/items/5") else { return XCTFail("no route") }
        XCTAssertEqual(route.pattern, "/api/items/{id}")
        XCTAssertEqual(route.method, "DELETE")
    }
}
