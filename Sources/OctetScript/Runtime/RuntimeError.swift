/// A runtime error: message, where it happened, and the script call stack at that point
/// (innermost first, as `in <function> at file:line:col`).
public struct RuntimeError: Error, CustomStringConvertible {
    public var message: String
    public var location: SourceLocation
    public var stack: [String]
    /// True when raised because the run was cancelled (Ctrl-C).
    public var isInterruption: Bool
    /// True for a syntax error found at run time (in an imported file): `octet run` exits 65.
    public var isSyntaxError = false

    public init(_ message: String, at location: SourceLocation, stack: [String] = [], isInterruption: Bool = false) {
        self.message = message
        self.location = location
        self.stack = stack
        self.isInterruption = isInterruption
    }

    public var diagnostic: Diagnostic {
        Diagnostic(message, at: location, notes: stack.isEmpty ? [] : ["call stack:"] + stack.map { "  " + $0 })
    }

    public var description: String { diagnostic.header }
}

/// Errors a builtin throws about its arguments; the interpreter points the caret at the
/// offending argument (or at the call) and prefixes the builtin's name.
public enum BindingError: Error, CustomStringConvertible {
    /// Positional argument `index` (0-based) is wrong.
    case argument(Int, String)
    /// Named argument `name` is wrong.
    case named(String, String)
    /// Something about the call as a whole.
    case message(String)

    public var description: String {
        switch self {
        case .argument(_, let m), .named(_, let m), .message(let m): return m
        }
    }
}

/// Internal control flow of statement execution.
enum Flow {
    case normal
    case breakLoop
    case continueLoop
    case returned(Value)
}
