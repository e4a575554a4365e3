/// A bad command line: exit 2 with one line on stderr.
struct UsageError: Error {
    let message: String
}

/// Options of one subcommand: `--name value`, `--name=value` and flags.
struct Arguments {
    private(set) var options: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []

    init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") {
                var name = String(argument.dropFirst(2))
                var value: String?
                if let equals = name.firstIndex(of: "=") {
                    value = String(name[name.index(after: equals)...])
                    name = String(name[..<equals])
                }
                if flagOptions.contains(name) {
                    guard value == nil else { throw UsageError(message: "--\(name) takes no value") }
                    flags.insert(name)
                } else if valueOptions.contains(name) {
                    if value == nil {
                        index += 1
                        guard index < arguments.count else { throw UsageError(message: "--\(name) needs a value") }
                        value = arguments[index]
                    }
                    options[name] = value
                } else {
                    throw UsageError(message: "unknown option --\(name)")
                }
            } else {
                positional.append(argument)
            }
            index += 1
        }
    }

    func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = options[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(message: "--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
