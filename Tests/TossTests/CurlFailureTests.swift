import CCurl
import XCTest
@testable import Toss

/// The pure mapping from a libcurl failure to `HTTPClientError`; the live cases are in CurlHTTPClientTests.
final class CurlFailureTests: XCTestCase {
    private func classify(_ code: CURLcode, sent: Bool, reachedRequest: Bool) -> HTTPClientError {
        CurlFailure.classify(code: code, sent: sent, reachedRequest: reachedRequest, detail: "d")
    }

    func testTimeoutBeforeConnectingIsCouldNotConnect() {
        XCTAssertEqual(classify(CURLE_OPERATION_TIMEDOUT, sent: false, reachedRequest: false),
                       .couldNotConnect("connect timed out: d"))
    }

    func testTimeoutAfterConnectingButBeforeSendingIsNotAmbiguous() {
        XCTAssertEqual(classify(CURLE_OPERATION_TIMEDOUT, sent: false, reachedRequest: true),
                       .timedOut(afterSending: false))
    }

    func testTimeoutAfterSendingIsAmbiguous() {
        XCTAssertEqual(classify(CURLE_OPERATION_TIMEDOUT, sent: true, reachedRequest: true),
                       .timedOut(afterSending: true))
    }

    func testConnectFailuresAreCouldNotConnect() {
        for code in [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_SSL_CONNECT_ERROR] {
            XCTAssertEqual(classify(code, sent: false, reachedRequest: false), .couldNotConnect("d"), "\(code)")
        }
    }

    /// libcurl retries once on a fresh connection when a reused one died; the first copy may have arrived.
    func testConnectFailureAfterAnEarlierSendIsAmbiguous() {
        XCTAssertEqual(classify(CURLE_COULDNT_CONNECT, sent: true, reachedRequest: true),
                       .connectionLost(afterSending: true))
    }

    func testBrokenConnectionsDependOnWhetherTheRequestWentOut() {
        for code in [CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE] {
            XCTAssertEqual(classify(code, sent: true, reachedRequest: true), .connectionLost(afterSending: true), "\(code)")
            XCTAssertEqual(classify(code, sent: false, reachedRequest: true), .connectionLost(afterSending: false), "\(code)")
        }
    }

    func testLocalSetupProblemsAreOther() {
        for code in [CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_PEER_FAILED_VERIFICATION] {
            XCTAssertEqual(classify(code, sent: false, reachedRequest: false), .other("d"), "\(code)")
        }
    }
}
