import Billing
import Foundation
import Storage
import Toss

/// The collaborators handlers and the biller use beyond storage, assembled once at start-up.
public struct Services: Sendable {
    public let toss: TossClient
    public let vault: BillingKeyVault
    public let calendar: BillingCalendar
    public let dunning: DunningSchedule

    public init(toss: TossClient, vault: BillingKeyVault, calendar: BillingCalendar, dunning: DunningSchedule = .standard) {
        self.toss = toss
        self.vault = vault
        self.calendar = calendar
        self.dunning = dunning
    }

    public static func make(configuration: Configuration) -> Services {
        let scale = configuration.tossTimeoutScale
        let timeouts = TossTimeouts(connect: 10 * scale, confirm: 30 * scale, cancel: 30 * scale, lookup: 30 * scale, billingCharge: 60 * scale)
        let toss = TossClient(configuration: TossConfiguration(baseURL: configuration.tossBaseURL, secretKey: configuration.tossSecretKey,
                                                               timeouts: timeouts))
        return Services(toss: toss, vault: BillingKeyVault(secretKey: configuration.secretKey),
                        calendar: BillingCalendar(timeZone: configuration.timeZone))
    }
}
