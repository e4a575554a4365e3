// Top-level routing of the sandbox's HTTP server.

import JSON
import Foundation

public final class SandboxApp: @unchecked Sendable {
    public let config: SandboxConfig
    let clock = SandboxClock()
    let state: SandboxState
    let idempotency = IdempotencyStore()
    let faults = FaultStore()
    let calls = CallLog()
    let api: APIRouter
    let control: ControlAPI
    let sdkScript: [UInt8]

    public init(config: SandboxConfig) {
        self.config = config
        state = SandboxState(clock: clock, render: Render(mId: config.mId, publicURL: config.publicURL))
        api = APIRouter(config: config, state: state, idempotency: idempotency, faults: faults, calls: calls, clock: clock)
        control = ControlAPI(state: state, idempotency: idempotency, faults: faults, calls: calls, clock: clock)
        sdkScript = Array(JSSDK.script(config: config).utf8)
    }

    public func handle(_ req: HTTPRequest) -> HTTPOutcome {
        let path = req.path
        // The Payment object's checkout.url lives under /v1 but is a browser page.
        if req.method == "GET", path.hasPrefix("/v1/payments/"), path.hasSuffix("/checkout") {
            let key = String(path.dropFirst("/v1/payments/".count).dropLast("/checkout".count))
            return .respond(Pages.receipt(state.payment(key: key)))
        }
        if path.hasPrefix("/v1/") { return api.handle(req) }
        switch path {
        case "/v2/standard", "/v2/standard/", "/v2/standard.js":
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "application/javascript; charset=utf-8"),
                                                                ("Cache-Control", "no-cache"),
                                                                ("Access-Control-Allow-Origin", "*")], body: sdkScript))
        case "/sandbox/payment": return .respond(CardForm.handle(req, kind: .payment, state: state, config: config))
        case "/sandbox/billing-auth": return .respond(CardForm.handle(req, kind: .billing, state: state, config: config))
        case "/", "/index.html": return .respond(Pages.index(config: config))
        case "/favicon.ico": return .respond(HTTPResponse(status: 204))
        default: break
        }
        if path.hasPrefix("/receipt/"), req.method == "GET" || req.method == "HEAD" {
            return .respond(Pages.receipt(state.payment(key: String(path.dropFirst("/receipt/".count)))))
        }
        if path.hasPrefix("/sandbox/") { return .respond(control.handle(req)) }
        return .respond(.json(404, TossError(404, "NOT_FOUND", "존재하지 않는 경로입니다.").json))
    }
}
