import XCTest
@testable import FastCGI
import Web

/// CGI parameters → `HTTPRequest`, without a socket.
final class FastCGIParamsTests: XCTestCase {
    private func request(_ values: [String: String]) -> HTTPRequest { FastCGIParams(values: values).httpRequest() }

    func testNginxStyleParamsBecomeARequest() {
        let request = request([
            "REQUEST_METHOD": "POST", "REQUEST_URI": "/api/auth/login?next=%2Faccount", "QUERY_STRING": "next=%2Faccount",
            "DOCUMENT_URI": "/api/auth/login", "HTTPS": "on", "REMOTE_ADDR": "198.51.100.4", "HTTP_HOST": "localhost:8443",
            "HTTP_X_CSRFTOKEN": "t", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "12", "REQUEST_ID": "abc",
        ])
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.path, "/api/auth/login")
        XCTAssertEqual(request.query["next"], "/account")
        XCTAssertTrue(request.isHTTPS)
        XCTAssertEqual(request.remoteAddress, "198.51.100.4")
        XCTAssertEqual(request.host, "localhost:8443")
        XCTAssertEqual(request.header("X-CSRFToken"), "t")
        XCTAssertEqual(request.contentType, "application/json")
        XCTAssertEqual(request.header("content-length"), "12")
        XCTAssertEqual(request.requestID, "abc")
    }

    func testDebiansPortlessHostGetsTheServerPortBack() {
        func origin(_ values: [String: String]) -> String { FastCGIParams(values: values).httpRequest().origin }
        XCTAssertEqual(origin(["HTTP_HOST": "localhost", "SERVER_PORT": "8443", "HTTPS": "on"]), "https://localhost:8443")
        XCTAssertEqual(origin(["HTTP_HOST": "billing.example.com", "SERVER_PORT": "443", "HTTPS": "on"]), "https://billing.example.com")
        XCTAssertEqual(origin(["HTTP_HOST": "example.com", "SERVER_PORT": "80"]), "http://example.com")
        XCTAssertEqual(origin(["HTTP_HOST": "127.0.0.1:9000", "SERVER_PORT": "8443", "HTTPS": "on"]), "https://127.0.0.1:9000")
        XCTAssertEqual(origin(["HTTP_HOST": "[::1]", "SERVER_PORT": "8443", "HTTPS": "on"]), "https://[::1]:8443")
        XCTAssertEqual(origin(["HTTP_HOST": "[::1]:8443", "SERVER_PORT": "8443", "HTTPS": "on"]), "https://[::1]:8443")
    }

    func testHTTPSValues() {
        XCTAssertTrue(request(["HTTPS": "on"]).isHTTPS)
        XCTAssertTrue(request(["HTTPS": "ON"]).isHTTPS)
        XCTAssertTrue(request(["HTTPS": "1"]).isHTTPS)
        XCTAssertTrue(request(["REQUEST_SCHEME": "https"]).isHTTPS)
        XCTAssertFalse(request(["HTTPS": ""]).isHTTPS)
        XCTAssertFalse(request(["HTTPS": "off"]).isHTTPS)
        XCTAssertFalse(request(["REQUEST_SCHEME": "http"]).isHTTPS)
        XCTAssertFalse(request([:]).isHTTPS)
    }

    func testMissingParamsHaveSafeDefaults() {
        let request = request([:])
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.path, "/")
        XCTAssertTrue(request.query.isEmpty)
        XCTAssertEqual(request.host, "localhost")
        XCTAssertFalse(request.requestID.isEmpty)
    }

    func testEmptyQueryStringWinsOverTheURIQuery() {
        // nginx always sends QUERY_STRING; it is the authority even when empty.
        XCTAssertTrue(request(["REQUEST_URI": "/x?a=1", "QUERY_STRING": ""]).query.isEmpty)
    }

    func testEmptyContentTypeIsNotAHeader() {
        XCTAssertNil(request(["CONTENT_TYPE": "", "CONTENT_LENGTH": ""]).header("content-type"))
    }

    func testContentLength() {
        XCTAssertEqual(FastCGIParams(values: ["CONTENT_LENGTH": "65536"]).contentLength, 65536)
        XCTAssertNil(FastCGIParams(values: ["CONTENT_LENGTH": ""]).contentLength)
        XCTAssertNil(FastCGIParams(values: ["CONTENT_LENGTH": "12x"]).contentLength)
    }
}

final class ListenAddressTests: XCTestCase {
    func testUnixAddresses() {
        XCTAssertEqual(ListenAddress(parsing: "unix:var/run/gudok.sock"), .unix(path: "var/run/gudok.sock"))
        XCTAssertEqual(ListenAddress(parsing: "unix:/run/gudok/gudok.sock"), .unix(path: "/run/gudok/gudok.sock"))
        XCTAssertNil(ListenAddress(parsing: "unix:"))
        XCTAssertNil(ListenAddress(parsing: "unix:/" + String(repeating: "d", count: 120)), "longer than sockaddr_un allows")
    }

    func testTCPAddresses() {
        XCTAssertEqual(ListenAddress(parsing: "127.0.0.1:9000"), .tcp(host: "127.0.0.1", port: 9000))
        XCTAssertEqual(ListenAddress(parsing: "[::1]:9000"), .tcp(host: "::1", port: 9000))
        XCTAssertEqual(ListenAddress(parsing: ":9000"), .tcp(host: "127.0.0.1", port: 9000))
        XCTAssertNil(ListenAddress(parsing: "localhost"))
        XCTAssertNil(ListenAddress(parsing: "localhost:"))
        XCTAssertNil(ListenAddress(parsing: "localhost:65536"))
        XCTAssertNil(ListenAddress(parsing: "localhost:http"))
    }

    func testDescriptionRoundTrips() {
        for text in ["unix:/tmp/x.sock", "127.0.0.1:9000"] {
            XCTAssertEqual(ListenAddress(parsing: text)?.description, text)
        }
    }
}
