import Foundation
import Storage
import Web

/// `POST /api/webhooks/toss`: every event is logged, answered 200 quickly, and processed idempotently.
enum WebhooksAPI {
    static let transmissionHeader = "tosspayments-webhook-transmission-id"

    static func register(_ table: inout RouteTable) {
        table.api("POST", "/api/webhooks/toss", csrfExempt: true, summary: "Toss webhook receiver",
                  doc: APIDoc(request: "WebhookEvent", responses: [(200, "WebhookAnswer"), (400, "Error")])) { exchange in
            let object: JSONObject
            do {
                guard case .object(let parsed) = try JSON.parse(exchange.request.body) else {
                    throw HTTPError.badRequest("웹훅 본문은 JSON 객체여야 합니다.", code: "INVALID_JSON")
                }
                object = parsed
            } catch let error as JSONParseError {
                throw HTTPError.badRequest("웹훅 본문이 올바른 JSON이 아닙니다: \(error.message)", code: "INVALID_JSON")
            }
            // DEPOSIT_CALLBACK arrives flat, without eventType/data.
            let eventType = object["eventType"]?.stringValue ?? (object["status"] != nil && object["orderId"] != nil ? "DEPOSIT_CALLBACK" : "UNKNOWN")
            let data = object["data"]?.objectValue ?? [:]
            let transmissionID = exchange.request.header(transmissionHeader).flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
            let eventID = Identifier.make()
            let recorded = try exchange.withDatabase {
                try WebhookEventRepository(connection: $0).record(id: eventID, transmissionID: transmissionID, eventType: String(eventType.prefix(100)),
                                                                  paymentKey: data["paymentKey"]?.stringValue, payload: redacted(object),
                                                                  receivedAt: Date())
            }
            guard recorded else {
                exchange.app.logger.info("webhook", ["event_type": .string(eventType), "outcome": "DUPLICATE"])
                return .json(["status": "duplicate"])
            }
            let processor = WebhookProcessor(database: exchange.app.database, services: exchange.app.services, logger: exchange.app.logger,
                                             toss: exchange.app.services.quickToss, now: exchange.now)
            let (outcome, detail) = processor.processOrDefer(eventType: eventType, data: data, eventID: eventID)
            try exchange.withDatabase { try WebhookEventRepository(connection: $0).setOutcome(id: eventID, outcome: outcome.rawValue, detail: detail) }
            exchange.app.logger.info("webhook", ["event_type": .string(eventType), "outcome": .string(outcome.rawValue), "detail": .string(detail)])
            return .json(["status": .string(outcome.rawValue.lowercased())])
        }
    }

    /// Billing keys never reach the event log.
    static func redacted(_ object: JSONObject) -> JSON {
        var copy = object
        if var data = copy["data"]?.objectValue, data["billingKey"] != nil {
            data["billingKey"] = "[redacted]"
            copy["data"] = .object(data)
        }
        return .object(copy)
    }
}
