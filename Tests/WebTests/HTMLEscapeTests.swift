import XCTest
@testable import Web

final class HTMLEscapeTests: XCTestCase {
    func testEscapesTheFiveSpecialCharacters() {
        XCTAssertEqual(HTML.escape(#"<a href="x" title='y'>&</a>"#), "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
    }

    func testScriptInjectionIsNeutralised() {
        let escaped = HTML.escape("<script>alert('x')</script>")
        XCTAssertFalse(escaped.contains("<") || escaped.contains(">") || escaped.contains("'"), escaped)
    }

    func testAttributeBreakoutIsNeutralised() {
        let escaped = HTML.escape(#"" onmouseover="alert(1)"#)
        XCTAssertFalse(escaped.contains("\""), escaped)
    }

    func testAmpersandIsEscapedOnceSoEntitiesAreShownLiterally() {
        XCTAssertEqual(HTML.escape("&amp;"), "&amp;amp;")
    }

    func testOrdinaryAndKoreanTextIsUnchanged() {
        XCTAssertEqual(HTML.escape("베이직 9,900원 / 월 — ok 😀"), "베이직 9,900원 / 월 — ok 😀")
        XCTAssertEqual(HTML.escape(""), "")
    }
}
