import Storage

/// gudok's schema, oldest first. One SQL text serves SQLite and PostgreSQL: ids are TEXT (UUIDs), money and times BIGINT
/// (won, Unix seconds), flags INTEGER 0/1. `gudok migrate` applies what a database lacks (see `Migrator`).
public enum GudokSchema {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "plans", statements: [
            """
            CREATE TABLE IF NOT EXISTS plans (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                plan_type TEXT NOT NULL,
                price BIGINT NOT NULL CHECK (price >= 0),
                currency TEXT NOT NULL DEFAULT 'KRW',
                billing_cycle TEXT NOT NULL,
                features TEXT NOT NULL DEFAULT '[]',
                is_active INTEGER NOT NULL DEFAULT 1,
                sort_order INTEGER NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS plans_active ON plans (is_active, sort_order)",
        ]),
        Migration(version: 2, name: "users and sessions", statements: [
            """
            CREATE TABLE IF NOT EXISTS users (
                id TEXT PRIMARY KEY,
                username TEXT NOT NULL,
                username_key TEXT NOT NULL UNIQUE,
                email TEXT NOT NULL DEFAULT '',
                password_hash TEXT NOT NULL,
                is_staff INTEGER NOT NULL DEFAULT 0,
                is_active INTEGER NOT NULL DEFAULT 1,
                created_at BIGINT NOT NULL,
                last_login BIGINT
            )
            """,
            "CREATE INDEX IF NOT EXISTS users_email ON users (email)",
            """
            CREATE TABLE IF NOT EXISTS sessions (
                id_hash TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id)",
            """
            CREATE TABLE IF NOT EXISTS login_failures (
                throttle_key TEXT NOT NULL,
                failed_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (throttle_key, failed_at)",
        ]),
        Migration(version: 3, name: "subscriptions, orders, payments", statements: [
            """
            CREATE TABLE IF NOT EXISTS subscriptions (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                plan_id TEXT NOT NULL REFERENCES plans(id),
                status TEXT NOT NULL,
                customer_key TEXT NOT NULL UNIQUE,
                anchor_at BIGINT,
                current_period INTEGER NOT NULL DEFAULT 0,
                start_date BIGINT,
                end_date BIGINT,
                next_billing_date BIGINT,
                cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                retry_immediately INTEGER NOT NULL DEFAULT 0,
                billing_key_sealed TEXT,
                billing_key_digest TEXT,
                card_company TEXT,
                card_number TEXT,
                cancelled_at BIGINT,
                claimed_until BIGINT NOT NULL DEFAULT 0,
                claimed_by TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS subscriptions_user ON subscriptions (user_id, created_at)",
            "CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions (status, next_billing_date)",
            "CREATE INDEX IF NOT EXISTS subscriptions_plan ON subscriptions (plan_id, status)",
            "CREATE INDEX IF NOT EXISTS subscriptions_billing_key ON subscriptions (billing_key_digest)",
            """
            CREATE TABLE IF NOT EXISTS orders (
                order_id TEXT PRIMARY KEY,
                subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
                user_id TEXT NOT NULL REFERENCES users(id),
                amount BIGINT NOT NULL,
                order_name TEXT NOT NULL,
                purpose TEXT NOT NULL,
                status TEXT NOT NULL,
                failure_code TEXT,
                failure_reason TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS orders_subscription ON orders (subscription_id)",
            """
            CREATE TABLE IF NOT EXISTS payments (
                id TEXT PRIMARY KEY,
                subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
                user_id TEXT NOT NULL REFERENCES users(id),
                payment_type TEXT NOT NULL,
                amount BIGINT NOT NULL,
                status TEXT NOT NULL,
                order_id TEXT NOT NULL UNIQUE,
                order_name TEXT NOT NULL,
                payment_key TEXT UNIQUE,
                period_index INTEGER NOT NULL,
                attempt INTEGER NOT NULL DEFAULT 1,
                payment_method TEXT,
                paid_at BIGINT,
                failure_code TEXT,
                failure_reason TEXT,
                refunded_amount BIGINT NOT NULL DEFAULT 0,
                receipt_url TEXT,
                last_transaction_key TEXT,
                toss_status TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (subscription_id, period_index, attempt)
            )
            """,
            "CREATE INDEX IF NOT EXISTS payments_user ON payments (user_id, created_at)",
            "CREATE INDEX IF NOT EXISTS payments_subscription ON payments (subscription_id, period_index)",
            "CREATE INDEX IF NOT EXISTS payments_status ON payments (status, created_at)",
            "CREATE INDEX IF NOT EXISTS payments_created ON payments (created_at)",
        ]),
        Migration(version: 4, name: "webhooks, audit log, test clock", statements: [
            """
            CREATE TABLE IF NOT EXISTS webhook_events (
                id TEXT PRIMARY KEY,
                transmission_id TEXT UNIQUE,
                event_type TEXT NOT NULL,
                payment_key TEXT,
                received_at BIGINT NOT NULL,
                payload TEXT NOT NULL,
                outcome TEXT NOT NULL,
                detail TEXT
            )
            """,
            "CREATE INDEX IF NOT EXISTS webhook_events_received ON webhook_events (received_at)",
            """
            CREATE TABLE IF NOT EXISTS audit_log (
                id TEXT PRIMARY KEY,
                actor_id TEXT,
                action TEXT NOT NULL,
                object_type TEXT NOT NULL,
                object_id TEXT NOT NULL,
                before_state TEXT,
                after_state TEXT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS audit_log_object ON audit_log (object_type, object_id, created_at)",
            """
            CREATE TABLE IF NOT EXISTS test_clock (
                id INTEGER PRIMARY KEY,
                now_at BIGINT
            )
            """,
        ]),
        // The back office's filters and dashboard: each list filter and date range lands on an index.
        Migration(version: 5, name: "admin indexes", statements: [
            "CREATE INDEX IF NOT EXISTS payments_method ON payments (payment_method, created_at)",
            "CREATE INDEX IF NOT EXISTS payments_paid ON payments (paid_at)",
            "CREATE INDEX IF NOT EXISTS subscriptions_created ON subscriptions (created_at)",
            "CREATE INDEX IF NOT EXISTS subscriptions_started ON subscriptions (start_date)",
            "CREATE INDEX IF NOT EXISTS subscriptions_ended ON subscriptions (status, updated_at)",
            "CREATE INDEX IF NOT EXISTS users_created ON users (created_at)",
            "CREATE INDEX IF NOT EXISTS webhook_events_type ON webhook_events (event_type, received_at)",
            "CREATE INDEX IF NOT EXISTS webhook_events_outcome ON webhook_events (outcome, received_at)",
        ]),
        // Invoices: what is owed, frozen when made; every payment pays exactly one. The partial unique indexes
        // are the money rules: one invoice per (subscription, period), one payment in flight and one paid per invoice.
        // Existing payments get their invoices from the application's backfill (`gudok migrate` runs it).
        Migration(version: 6, name: "invoices", statements: [
            """
            CREATE TABLE IF NOT EXISTS invoices (
                id TEXT PRIMARY KEY,
                sequence BIGINT NOT NULL,
                number TEXT NOT NULL,
                subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
                user_id TEXT NOT NULL REFERENCES users(id),
                kind TEXT NOT NULL,
                period_index INTEGER NOT NULL,
                plan_id TEXT NOT NULL,
                plan_name TEXT NOT NULL,
                plan_price BIGINT NOT NULL,
                billing_cycle TEXT NOT NULL,
                period_start BIGINT,
                period_end BIGINT,
                lines TEXT NOT NULL,
                subtotal BIGINT NOT NULL,
                discount BIGINT NOT NULL DEFAULT 0,
                total BIGINT NOT NULL CHECK (total >= 0),
                supply_amount BIGINT NOT NULL,
                vat BIGINT NOT NULL,
                status TEXT NOT NULL,
                voided_at BIGINT,
                paid_payment_id TEXT,
                paid_at BIGINT,
                version INTEGER NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX IF NOT EXISTS invoices_one_per_period ON invoices (subscription_id, period_index) WHERE kind = 'PERIOD' AND voided_at IS NULL",
            "CREATE INDEX IF NOT EXISTS invoices_subscription ON invoices (subscription_id, period_index)",
            // The unique (subscription_id, period_index, attempt) already serves every lookup this one did.
            "DROP INDEX IF EXISTS payments_subscription",
            "ALTER TABLE payments ADD COLUMN invoice_id TEXT REFERENCES invoices(id)",
            // 1: an extra approval, not the invoice's own payment (refunded when Toss approved it for an invoice already settled).
            "ALTER TABLE payments ADD COLUMN surplus INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE payments ADD COLUMN toss_vat BIGINT",
            "ALTER TABLE payments ADD COLUMN toss_supplied_amount BIGINT",
            "CREATE UNIQUE INDEX IF NOT EXISTS payments_one_in_flight ON payments (invoice_id) WHERE status = 'PENDING' AND surplus = 0",
            """
            CREATE UNIQUE INDEX IF NOT EXISTS payments_one_paid ON payments (invoice_id)
            WHERE status IN ('COMPLETED', 'PARTIAL_CANCELLED', 'CANCELLED') AND surplus = 0
            """,
            "CREATE INDEX IF NOT EXISTS payments_surplus ON payments (updated_at) WHERE surplus = 1",
            "ALTER TABLE orders ADD COLUMN invoice_id TEXT REFERENCES invoices(id)",
            // Every subscription write is compare-and-set on this column.
            "ALTER TABLE subscriptions ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
            // Why charging stopped without the customer's fault (e.g. BILLING_KEY_UNREADABLE); NULL when charging normally.
            "ALTER TABLE subscriptions ADD COLUMN charge_blocked TEXT",
        ], postgresStatements: [
            "CREATE SEQUENCE IF NOT EXISTS invoice_sequence",
        ]),
        // Plan changes and price changes with consent. A subscription keeps the price it signed up at (`price`); a plan's
        // price edit applies to new subscribers, and current ones move only through a scheduled price change they consent to.
        Migration(version: 7, name: "plan lifecycle", statements: [
            "ALTER TABLE subscriptions ADD COLUMN price BIGINT",
            // The period that starts at anchor_at: 0 unless a change of billing cycle re-anchored the subscription.
            "ALTER TABLE subscriptions ADD COLUMN anchor_index INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE subscriptions ADD COLUMN scheduled_plan_id TEXT REFERENCES plans(id)",
            // Won carried to the next period's invoice from a plan change: positive is owed, negative is a credit.
            "ALTER TABLE subscriptions ADD COLUMN balance BIGINT NOT NULL DEFAULT 0",
            // Subscribers so far keep what they last paid for a period (or the plan's price if nothing is paid yet).
            """
            UPDATE subscriptions SET price = COALESCE(
                (SELECT i.plan_price FROM invoices i WHERE i.subscription_id = subscriptions.id AND i.kind = 'PERIOD' AND i.status = 'PAID'
                 ORDER BY i.period_index DESC, i.sequence DESC LIMIT 1),
                (SELECT p.price FROM plans p WHERE p.id = subscriptions.plan_id))
            WHERE status <> 'PENDING'
            """,
            """
            CREATE TABLE IF NOT EXISTS price_changes (
                id TEXT PRIMARY KEY,
                plan_id TEXT NOT NULL REFERENCES plans(id),
                amount BIGINT NOT NULL CHECK (amount >= 0),
                effective_at BIGINT NOT NULL,
                created_by TEXT,
                withdrawn_at BIGINT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS price_changes_plan ON price_changes (plan_id, created_at)",
            // One row per (price change, subscriber): what was asked, the answer with its time, IP and the exact text shown,
            // and what became of it at the renewal (outcome APPLIED, ENDED, SUPERSEDED or WITHDRAWN, with applied_at).
            """
            CREATE TABLE IF NOT EXISTS price_consents (
                id TEXT PRIMARY KEY,
                price_change_id TEXT NOT NULL REFERENCES price_changes(id),
                subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
                plan_id TEXT NOT NULL,
                old_amount BIGINT NOT NULL,
                new_amount BIGINT NOT NULL,
                effective_at BIGINT NOT NULL,
                consent TEXT NOT NULL,
                decided_at BIGINT,
                decided_ip TEXT,
                text_shown TEXT,
                outcome TEXT,
                applied_at BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (price_change_id, subscription_id)
            )
            """,
            // A subscription has at most one price change waiting for it.
            "CREATE UNIQUE INDEX IF NOT EXISTS price_consents_open ON price_consents (subscription_id) WHERE applied_at IS NULL",
            // A mid-period change is charged once: one open change invoice per subscription.
            "CREATE UNIQUE INDEX IF NOT EXISTS invoices_one_open_change ON invoices (subscription_id) WHERE kind = 'CHANGE' AND status = 'OPEN'",
        ]),
        // Coupons: made by staff, redeemed at most max_redemptions times (a conditional increment of `redeemed`), one per
        // subscription. Each period invoice that used it names it, which is how its periods are counted.
        Migration(version: 8, name: "coupons", statements: [
            """
            CREATE TABLE IF NOT EXISTS coupons (
                id TEXT PRIMARY KEY,
                code TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL DEFAULT '',
                percent_off INTEGER CHECK (percent_off IS NULL OR (percent_off BETWEEN 1 AND 100)),
                amount_off BIGINT CHECK (amount_off IS NULL OR amount_off > 0),
                duration TEXT NOT NULL,
                duration_periods INTEGER,
                max_redemptions INTEGER,
                redeemed INTEGER NOT NULL DEFAULT 0 CHECK (redeemed >= 0),
                expires_at BIGINT,
                plan_ids TEXT NOT NULL DEFAULT '[]',
                is_active INTEGER NOT NULL DEFAULT 1,
                created_by TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS coupon_redemptions (
                id TEXT PRIMARY KEY,
                coupon_id TEXT NOT NULL REFERENCES coupons(id),
                subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
                user_id TEXT NOT NULL,
                applied_by TEXT,
                created_at BIGINT NOT NULL,
                UNIQUE (coupon_id, subscription_id)
            )
            """,
            "ALTER TABLE subscriptions ADD COLUMN coupon_id TEXT REFERENCES coupons(id)",
            "ALTER TABLE invoices ADD COLUMN coupon_id TEXT",
        ]),
    ]
}
