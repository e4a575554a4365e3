import Foundation
import Web

/// The frame around every page: header with who is signed in, the test-clock banner, the page body.
enum Layout {
    static func page(title: String, _ exchange: Exchange, extraHead: String = "", body: String) -> String {
        let e = HTML.escape
        var nav = ""
        if let user = exchange.user {
            nav += "<a href=\"/account\">내 구독</a>"
            if user.isStaff { nav += "<a href=\"/admin\">관리자</a>" }
            nav += """
            <span class="whoami">\(e(user.username)) 님</span>
            <form method="post" action="/accounts/logout" class="inline">\(csrfField(exchange))<button type="submit" class="link">로그아웃</button></form>
            """
        } else {
            nav += "<a href=\"/accounts/login\">로그인</a><a href=\"/accounts/signup\" class=\"button small\">회원가입</a>"
        }
        var banner = ""
        if let testTime = exchange.app.clock.testTime() {
            banner = "<div class=\"test-clock-banner\" id=\"test-clock-banner\">테스트 시계 사용 중: \(e(Format.dateTime(testTime, exchange.app.configuration.timeZone)))</div>"
        }
        return """
        <!DOCTYPE html>
        <html lang="ko">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(exchange.user == nil ? "" : "<meta name=\"csrf-token\" content=\"\(e(exchange.csrfToken))\">")
        <title>\(e(title)) · gudok</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/static/css/gudok.css">
        \(extraHead)
        </head>
        <body>
        \(banner)
        <header class="site-header"><a class="brand" href="/">gudok <span>구독</span></a><nav>\(nav)</nav></header>
        <main>
        \(body)
        </main>
        <footer class="site-footer">gudok · 결제는 토스페이먼츠로 안전하게 처리됩니다.</footer>
        </body>
        </html>
        """
    }

    static func csrfField(_ exchange: Exchange) -> String {
        "<input type=\"hidden\" name=\"\(CSRF.formField)\" value=\"\(HTML.escape(exchange.csrfToken))\">"
    }
}

enum Pages {
    static func error(_ error: HTTPError, _ exchange: Exchange) -> HTTPResponse {
        let title: String = switch error.status {
        case 404: "페이지를 찾을 수 없습니다"
        case 403: "요청이 거부되었습니다"
        case 429: "잠시 후 다시 시도하세요"
        case 500...: "서버 오류"
        default: "요청을 처리할 수 없습니다"
        }
        let body = """
        <section class="card narrow">
        <h1>\(HTML.escape(title))</h1>
        <div class="alert error"><p>\(HTML.escape(error.message))</p><p class="muted">코드: \(HTML.escape(error.code))</p></div>
        <p><a class="button" href="/">요금제로 돌아가기</a></p>
        </section>
        """
        var response = HTTPResponse.html(Layout.page(title: title, exchange, body: body), status: error.status)
        for (name, value) in error.headers { response.addHeader(name, value) }
        return response
    }
}

enum Format {
    static func dateTime(_ date: Date, _ zone: TimeZone) -> String {
        let text = RFC3339.format(date, in: zone)
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5))
    }

    static func date(_ date: Date, _ zone: TimeZone) -> String { String(RFC3339.format(date, in: zone).prefix(10)) }
}
