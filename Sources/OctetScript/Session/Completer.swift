/// Tab completion for the REPL: builtins, global bindings and REPL commands by prefix,
/// and members after a `.` (`t.sh` → `t.shape`) when the receiver is a global chain.
public struct Completer {
    public let interpreter: Interpreter
    public static let commands = [":help", ":vars", ":load", ":save", ":notebook", ":time", ":quit"]
    public static let keywords = ["let", "fn", "if", "else", "for", "in", "while", "break", "continue",
                                  "return", "import", "true", "false", "nil", "and", "or", "not"]

    public init(interpreter: Interpreter) { self.interpreter = interpreter }

    /// Completions of `word` (the text since the last separator), sorted.
    public func completions(for word: String) -> [String] {
        if word.hasPrefix(":") { return Completer.commands.filter { $0.hasPrefix(word) } }
        if let dot = word.lastIndex(of: ".") {
            let receiver = String(word[..<dot]), prefix = String(word[word.index(after: dot)...])
            guard let value = resolve(receiver) else { return [] }
            return Array(Set(interpreter.memberNames(of: value))).filter { $0.hasPrefix(prefix) }.sorted().map { receiver + "." + $0 }
        }
        return Array(Set(interpreter.globalNames + Completer.keywords)).filter { $0.hasPrefix(word) }.sorted()
    }

    /// Evaluates `a.b.c` through globals and properties only (no calls, no side effects).
    func resolve(_ path: String) -> Value? {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, var value = interpreter.global(first) else { return nil }
        for name in parts.dropFirst() {
            switch value {
            case .record(let r): guard let v = r[name] else { return nil }; value = v
            case .object(let o): guard let v = try? o.property(name) else { return nil }; value = v
            default: return nil
            }
        }
        return value
    }
}
