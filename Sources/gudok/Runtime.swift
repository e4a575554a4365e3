import App
import Foundation
import Storage

/// What every long-running command needs: configuration, database, clock, logger, the assembled app.
struct Runtime {
    let configuration: Configuration
    let database: Database
    let clock: Clock
    let logger: Logger
    let application: Application

    static func start() throws -> Runtime {
        let configuration = try Configuration.load()
        let logger = Logger(minimum: configuration.logLevel)
        let database = try DatabaseURL.open(configuration.databaseURL)
        let clock: Clock = configuration.testClockEnabled ? DatabaseTestClock(database: database) : SystemClock()
        let application = Application(configuration: configuration, database: database, clock: clock, logger: logger,
                                      services: Services.make(configuration: configuration))
        return Runtime(configuration: configuration, database: database, clock: clock, logger: logger, application: application)
    }
}
