/// A compiler-style message tied to a source location.
///
/// Rendered clang style: `file:line:col: error: message`, then the source line and a
/// caret under the column, then any notes (the script call stack for runtime errors).
public struct Diagnostic: Error, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning, note }

    public var location: SourceLocation
    public var severity: Severity
    public var message: String
    /// Extra lines printed after the caret (e.g. call stack entries).
    public var notes: [String]

    public init(_ message: String, at location: SourceLocation, severity: Severity = .error, notes: [String] = []) {
        self.message = message
        self.location = location
        self.severity = severity
        self.notes = notes
    }

    /// First line of the rendering: `file:line:col: error: message`.
    public var header: String { "\(location): \(severity.rawValue): \(message)" }

    public var description: String { header }

    /// Full rendering with the quoted source line and caret when the source is known.
    public func rendered(with sources: SourceRegistry?) -> String {
        var out = header
        if let file = sources?.file(named: location.file), let text = file.line(location.line) {
            out += "\n" + text + "\n" + Diagnostic.caretLine(for: text, column: location.column)
        }
        for note in notes { out += "\n" + note }
        return out
    }

    /// Spaces (tabs kept as tabs so alignment matches the terminal) then `^`.
    static func caretLine(for text: String, column: Int) -> String {
        var pad = ""
        for (i, ch) in text.enumerated() where i < column - 1 { pad.append(ch == "\t" ? "\t" : " ") }
        let missing = max(0, column - 1 - text.count)
        return pad + String(repeating: " ", count: missing) + "^"
    }
}
