import Foundation

/// Idle connections kept for reuse; a thread takes one, uses it, gives it back.
final class ConnectionPool<Connection: AnyObject>: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [Connection] = []
    private let maxIdle: Int
    private let open: () throws(DatabaseError) -> Connection

    init(maxIdle: Int = 64, open: @escaping () throws(DatabaseError) -> Connection) {
        self.maxIdle = maxIdle
        self.open = open
    }

    func borrow() throws(DatabaseError) -> Connection {
        lock.lock()
        if let connection = idle.popLast() {
            lock.unlock()
            return connection
        }
        lock.unlock()
        return try open()
    }

    func giveBack(_ connection: Connection) {
        lock.lock()
        if idle.count < maxIdle { idle.append(connection) }
        lock.unlock()
    }

    var idleCount: Int { lock.lock(); defer { lock.unlock() }; return idle.count }
}
