import Billing
import Foundation
import Storage
import Toss

/// The collaborators handlers and the biller use beyond storage, assembled once at start-up.
public struct Services: Sendable {
    public let toss: TossClient
    /// For lookups that must answer fast (a webhook is answered within a second); a miss is retried by the worker.
    public let quickToss: TossClient
    public let vault: BillingKeyVault
    public let calendar: BillingCalendar
    public let dunning: DunningSchedule
    public let planCatalogue = PlanCatalogue()

    public init(toss: TossClient, quickToss: TossClient, vault: BillingKeyVault, calendar: BillingCalendar, dunning: DunningSchedule = .standard) {
        self.toss = toss
        self.quickToss = quickToss
        self.vault = vault
        self.calendar = calendar
        self.dunning = dunning
    }

    public static func make(configuration: Configuration) -> Services {
        let scale = configuration.tossTimeoutScale
        let timeouts = TossTimeouts(connect: 10 * scale, confirm: 30 * scale, cancel: 30 * scale, lookup: 30 * scale, billingCharge: 60 * scale)
        let toss = TossClient(configuration: TossConfiguration(baseURL: configuration.tossBaseURL, secretKey: configuration.tossSecretKey,
                                                               timeouts: timeouts))
        let quick = TossTimeouts(connect: 0.3, confirm: 0.5, cancel: 0.5, lookup: 0.5, billingCharge: 0.5)
        let quickToss = TossClient(configuration: TossConfiguration(baseURL: configuration.tossBaseURL, secretKey: configuration.tossSecretKey,
                                                                    timeouts: quick))
        return Services(toss: toss, quickToss: quickToss, vault: BillingKeyVault(secretKey: configuration.secretKey),
                        calendar: BillingCalendar(timeZone: configuration.timeZone))
    }
}
