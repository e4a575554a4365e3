// Small HTML pages: the index (`GET /`), receipts, and error pages.

enum Pages {
    static let css = """
    *{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,"Apple SD Gothic Neo","Noto Sans KR",sans-serif;background:#f4f5f7;color:#191f28}
    .banner{background:#ffcc00;color:#191f28;text-align:center;font-weight:700;padding:.6rem;letter-spacing:.02em}
    main{max-width:34rem;margin:1.5rem auto;background:#fff;border-radius:12px;padding:1.5rem;box-shadow:0 1px 4px rgba(0,0,0,.08)}
    h1{font-size:1.3rem;margin:0 0 1rem}h2{font-size:1rem;margin:1.5rem 0 .5rem}
    dl.summary{display:grid;grid-template-columns:7rem 1fr;gap:.4rem;margin:0 0 1.2rem}dt{color:#6b7684}dd{margin:0}
    .amount{font-weight:700;font-size:1.15rem}label{display:block;font-weight:600;margin-bottom:.3rem}
    input{width:100%;font-size:1.1rem;padding:.6rem;border:1px solid #d1d6db;border-radius:8px;font-family:ui-monospace,monospace}
    .buttons{display:flex;gap:.5rem;margin-top:1rem}button{font-size:1rem;padding:.6rem 1rem;border-radius:8px;border:1px solid #d1d6db;background:#fff;cursor:pointer}
    button.primary{background:#3182f6;border-color:#3182f6;color:#fff;flex:1}.error{color:#d22030;font-weight:600}
    .cards ul{padding-left:1rem}.cards li{margin:.3rem 0;font-size:.9rem}.test-card{padding:.1rem .3rem;font-size:.85rem}
    .note{color:#6b7684;font-size:.85rem}table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #eee;padding:.3rem;text-align:left}
    code{font-size:.85em}
    """

    static func errorPage(_ e: TossError) -> HTTPResponse {
        .html(e.status, """
        <!doctype html><html lang="ko"><head><meta charset="utf-8"><title>SANDBOX · 오류</title><style>\(css)</style></head>
        <body><div class="banner">SANDBOX · 테스트 결제</div><main>
        <h1>요청을 처리할 수 없습니다</h1>
        <p class="error" id="error-code">\(HTMLText.escape(e.code))</p>
        <p id="error-message">\(HTMLText.escape(e.message))</p>
        </main></body></html>
        """)
    }

    static func index(config: SandboxConfig) -> HTTPResponse {
        let h = HTMLText.escape
        let cards = Cards.testCards.map { "<tr><td><code>\($0.number)</code></td><td>\(h($0.effect))</td></tr>" }.joined()
        let endpoints: [(String, String)] = [
            ("POST /v1/payments/confirm", "결제 승인"),
            ("GET /v1/payments/{paymentKey}", "결제 조회"),
            ("GET /v1/payments/orders/{orderId}", "주문번호로 결제 조회"),
            ("POST /v1/payments/{paymentKey}/cancel", "결제 취소 (전체/부분)"),
            ("POST /v1/billing/authorizations/issue", "빌링키 발급"),
            ("POST /v1/billing/{billingKey}", "자동결제 승인"),
            ("DELETE /v1/billing/{billingKey}", "빌링키 삭제"),
            ("GET /v2/standard", "JS SDK v2 대역 (script src)"),
            ("POST /sandbox/payments/authorize", "카드 결제창 인증을 브라우저 없이 (→ paymentKey)"),
            ("POST /sandbox/billing/authorize", "카드 등록 인증을 브라우저 없이 (→ authKey)"),
            ("POST|GET|DELETE /sandbox/faults", "장애 주입: latency, timeout, error, reset, decline"),
            ("GET|DELETE /sandbox/calls", "받은 /v1 호출 기록"),
            ("GET /sandbox/payments, /sandbox/charges", "결제 목록 / 실제 승인된 결제"),
            ("GET /sandbox/billing-keys", "발급된 빌링키"),
            ("GET|POST /sandbox/clock", "샌드박스 시계 (offsetSeconds / advanceSeconds)"),
            ("POST /sandbox/reset", "모든 상태 초기화"),
        ]
        let rows = endpoints.map { "<tr><td><code>\(h($0.0))</code></td><td>\(h($0.1))</td></tr>" }.joined()
        let auth = config.secretKey == nil ? "<code>test_sk_</code> 또는 <code>test_gsk_</code>로 시작하는 아무 시크릿 키" : "설정된 시크릿 키만"
        return .html(200, """
        <!doctype html><html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>SANDBOX · Toss Payments 시뮬레이터</title><style>\(css) main{max-width:52rem}</style></head>
        <body><div class="banner">SANDBOX · 테스트 결제 — Toss Payments 오프라인 시뮬레이터 (gudok)</div><main>
        <h1>Toss Payments SANDBOX</h1>
        <p>실제 결제가 일어나지 않는 오프라인 시뮬레이터입니다. REST API는 실제 Toss와 같은 형식으로 답합니다.
        인증: <code>Authorization: Basic base64(secretKey + ":")</code> — \(auth).</p>
        <h2>엔드포인트</h2><table>\(rows)</table>
        <h2>테스트 카드</h2><table>\(cards)</table>
        </main></body></html>
        """)
    }

    static func receipt(_ p: PaymentRecord?) -> HTTPResponse {
        guard let p else {
            return errorPage(TossError.known("NOT_FOUND_PAYMENT"))
        }
        let h = HTMLText.escape
        let statusText: String
        switch p.status {
        case "DONE": statusText = "결제 완료"
        case "CANCELED": statusText = "전액 취소"
        case "PARTIAL_CANCELED": statusText = "부분 취소"
        case "ABORTED": statusText = "승인 실패"
        case "EXPIRED": statusText = "만료"
        default: statusText = "승인 대기"
        }
        let cancels = p.cancels.map {
            "<tr><td>취소 \(TossTime.format($0.canceledAt))</td><td>-\(HTMLText.won($0.cancelAmount)) (\(h($0.cancelReason)))</td></tr>"
        }.joined()
        return .html(200, """
        <!doctype html><html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>SANDBOX 영수증 — \(h(p.orderName))</title><style>\(css)</style></head>
        <body><div class="banner">SANDBOX · 테스트 영수증 — 실제 거래가 아닙니다</div><main>
        <h1>카드 매출전표 (SANDBOX)</h1>
        <table>
        <tr><th>상태</th><td id="receipt-status">\(statusText)</td></tr>
        <tr><th>주문</th><td>\(h(p.orderName))</td></tr>
        <tr><th>주문번호</th><td><code>\(h(p.orderId))</code></td></tr>
        <tr><th>결제 금액</th><td>\(HTMLText.won(p.totalAmount))</td></tr>
        <tr><th>취소 후 잔액</th><td>\(HTMLText.won(p.balanceAmount))</td></tr>
        <tr><th>카드</th><td>\(h(p.card.company)) \(h(p.card.masked))</td></tr>
        <tr><th>승인번호</th><td>\(h(p.approveNo ?? "-"))</td></tr>
        <tr><th>승인 시각</th><td>\(p.approvedAt.map(TossTime.format) ?? "-")</td></tr>
        \(cancels)
        </table>
        </main></body></html>
        """)
    }
}
