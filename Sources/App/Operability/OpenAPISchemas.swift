import Web

/// Component schemas of the JSON shapes (docs/api.md#json-shapes); the handlers build exactly these objects.
enum OpenAPISchemas {
    static func object(_ properties: [(String, JSON)], required: [String]? = nil, additional: Bool = false) -> JSON {
        var object: JSONObject = ["type": "object", "properties": .object(JSONObject(properties))]
        object["required"] = .array((required ?? properties.map(\.0)).map { .string($0) })
        if !additional { object["additionalProperties"] = false }
        return .object(object)
    }

    static let string: JSON = ["type": "string"]
    static let nullableString: JSON = ["type": ["string", "null"]]
    static let integer: JSON = ["type": "integer"]
    static let boolean: JSON = ["type": "boolean"]
    static let dateTime: JSON = ["type": "string", "format": "date-time"]
    static let nullableDateTime: JSON = ["type": ["string", "null"], "format": "date-time"]
    static func ref(_ name: String) -> JSON { ["$ref": .string("#/components/schemas/\(name)")] }
    static func enumeration(_ values: [String]) -> JSON { ["type": "string", "enum": .array(values.map { .string($0) })] }

    static var all: JSONObject {
        JSONObject([
            ("Error", object([("message", string), ("code", string)])),
            ("Plan", object([("id", ["type": "string", "format": "uuid"]), ("name", string), ("plan_type", enumeration(["BASIC", "PREMIUM", "ENTERPRISE"])),
                             ("price", ["type": "integer", "minimum": 0]), ("currency", string),
                             ("billing_cycle", enumeration(["MONTHLY", "QUARTERLY", "YEARLY"])), ("features", ["type": "array", "items": string]),
                             ("is_active", boolean)])),
            ("AdminPlan", object([("id", ["type": "string", "format": "uuid"]), ("name", string),
                                  ("plan_type", enumeration(["BASIC", "PREMIUM", "ENTERPRISE"])), ("price", ["type": "integer", "minimum": 0]),
                                  ("currency", string), ("billing_cycle", enumeration(["MONTHLY", "QUARTERLY", "YEARLY"])),
                                  ("features", ["type": "array", "items": string]), ("is_active", boolean), ("subscription_count", integer),
                                  ("active_subscription_count", integer), ("created_at", dateTime), ("updated_at", dateTime)])),
            ("Card", ["type": ["object", "null"], "properties": ["company": nullableString, "number": nullableString]]),
            ("Subscription", object([("id", string), ("plan", ref("Plan")),
                                     ("status", enumeration(["PENDING", "ACTIVE", "PAST_DUE", "CANCELLED", "EXPIRED", "INACTIVE"])),
                                     ("customer_key", string), ("start_date", nullableDateTime), ("end_date", nullableDateTime),
                                     ("next_billing_date", nullableDateTime), ("cancel_at_period_end", boolean), ("card", ref("Card")),
                                     ("created_at", dateTime), ("price", integer),
                                     ("scheduled_change", ["oneOf": [["type": "null"], object([("plan", ref("Plan")), ("at", nullableDateTime)])]]),
                                     ("coupon", ["oneOf": [["type": "null"], object([("code", string), ("percent_off", ["type": ["integer", "null"]]),
                                                                                      ("amount_off", ["type": ["integer", "null"]]),
                                                                                      ("periods_left", ["type": ["integer", "null"]])])]]),
                                     ("pending_price", ["oneOf": [["type": "null"], ref("PendingPrice")]])])),
            ("PendingPrice", object([("amount", integer), ("previous_amount", integer), ("effective_at", dateTime),
                                     ("consent", enumeration(["PENDING", "GIVEN", "DECLINED", "NOT_REQUIRED"])), ("decided_at", nullableDateTime)])),
            ("ChangeRequest", object([("plan_id", string), ("when", enumeration(["now", "period_end"]))], required: ["plan_id"])),
            ("PriceConsentRequest", object([("agree", boolean)])),
            ("PriceChangeRequest", object([("amount", integer), ("effective_at", dateTime)], required: ["effective_at"])),
            ("PriceChange", object([("id", string), ("plan_id", string), ("amount", integer), ("effective_at", dateTime), ("created_at", dateTime),
                                    ("withdrawn_at", nullableDateTime), ("subscribers", integer),
                                    ("consents", ["type": "object", "additionalProperties": integer]),
                                    ("outcomes", ["type": "object", "additionalProperties": integer])])),
            ("PriceChangeList", ["type": "array", "items": ref("PriceChange")]),
            ("Payment", object([("id", string), ("subscription_id", string), ("payment_type", enumeration(["SUBSCRIPTION", "ONE_TIME"])),
                                ("amount", integer), ("status", enumeration(["PENDING", "COMPLETED", "FAILED", "CANCELLED", "PARTIAL_CANCELLED"])),
                                ("order_id", string), ("payment_method", nullableString), ("paid_at", nullableDateTime),
                                ("failure_code", nullableString), ("failure_reason", nullableString), ("refunded_amount", integer),
                                ("receipt_url", nullableString), ("created_at", dateTime), ("invoice_id", nullableString)])),
            ("InvoiceLine", object([("kind", enumeration(["PLAN", "PRORATION", "DISCOUNT", "CREDIT"])), ("description", string), ("amount", integer)])),
            ("Invoice", object([("id", string), ("number", string), ("subscription_id", string),
                                ("plan", object([("id", string), ("name", string), ("price", integer), ("billing_cycle", string)])),
                                ("period_start", nullableDateTime), ("period_end", nullableDateTime),
                                ("lines", ["type": "array", "items": ref("InvoiceLine")]), ("subtotal", integer), ("discount", integer),
                                ("total", integer), ("supply_amount", integer), ("vat", integer), ("currency", string),
                                ("status", enumeration(["OPEN", "PAID", "VOID", "UNCOLLECTIBLE"])), ("paid_at", nullableDateTime),
                                ("created_at", dateTime)])),
            ("InvoiceList", ["type": "array", "items": ref("Invoice")]),
            ("User", object([("id", string), ("username", string), ("email", string), ("is_staff", boolean)])),
            ("CsrfToken", object([("csrf_token", string)])),
            ("Health", object([("status", string)], required: ["status"], additional: true)),
            ("SignupRequest", object([("username", ["type": "string", "minLength": 3, "maxLength": 150, "pattern": "^[A-Za-z0-9@.+_-]+$"]),
                                      ("email", string), ("password", ["type": "string", "minLength": 8])], required: ["username", "password"])),
            ("LoginRequest", object([("username", string), ("password", string)])),
            ("SubscribeRequest", object([("plan_id", string), ("customer_key", string), ("coupon", string)], required: ["plan_id"])),
            ("CouponRequest", object([("code", string)])),
            ("Coupon", object([("id", string), ("code", string), ("name", string), ("percent_off", ["type": ["integer", "null"]]),
                               ("amount_off", ["type": ["integer", "null"]]), ("duration", enumeration(["ONCE", "REPEATING", "FOREVER"])),
                               ("duration_periods", ["type": ["integer", "null"]]), ("max_redemptions", ["type": ["integer", "null"]]),
                               ("redeemed", integer), ("expires_at", nullableDateTime), ("plan_ids", ["type": "array", "items": string]),
                               ("is_active", boolean), ("created_at", dateTime)])),
            ("CouponList", ["type": "array", "items": ref("Coupon")]),
            ("CouponCreateRequest", object([("code", string), ("name", string), ("percent_off", integer), ("amount_off", integer),
                                            ("duration", enumeration(["ONCE", "REPEATING", "FOREVER"])), ("duration_periods", integer),
                                            ("max_redemptions", integer), ("expires_at", dateTime), ("plan_ids", ["type": "array", "items": string])],
                                           required: ["code", "duration"])),
            ("CheckoutOrder", object([("order_id", string), ("invoice_id", string), ("amount", integer), ("order_name", string), ("customer_key", string),
                                      ("client_key", string), ("success_url", string), ("fail_url", string)])),
            ("ConfirmRequest", object([("payment_key", string), ("order_id", string),
                                       ("amount", ["oneOf": [integer, ["type": "string", "pattern": "^[0-9]{1,18}$"]]])])),
            ("BillingIssueRequest", object([("customer_key", string), ("auth_key", string)])),
            ("BillingIssueResponse", object([("subscription", ref("Subscription")), ("card", ref("Card"))])),
            ("CancelRequest", object([("at_period_end", boolean)], required: [])),
            ("SubscriptionMessage", object([("message", string), ("subscription", ref("Subscription"))])),
            ("SubscriptionList", ["type": "array", "items": ref("Subscription")]),
            ("PaymentList", ["type": "array", "items": ref("Payment")]),
            ("PlanList", ["type": "array", "items": ref("Plan")]),
            ("WebhookEvent", ["type": "object", "properties": ["eventType": string, "createdAt": string, "data": ["type": "object"]]]),
            ("WebhookAnswer", object([("status", string)])),
        ])
    }
}
