/// A position in a script: file display name, 1-based line and 1-based column
/// (columns count Unicode characters). Every token and AST node carries one.
public struct SourceLocation: Equatable, Hashable, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:col`, the prefix of every diagnostic.
    public var description: String { "\(file):\(line):\(column)" }
}

/// A script's text split into lines, kept so diagnostics can quote the offending line.
public struct SourceFile: Sendable {
    public let name: String
    public let text: String
    public let lines: [String]

    public init(name: String, text: String) {
        self.name = name
        self.text = text
        // Split on scalars (a CRLF pair is one Character and would not match "\n"): LF, CR LF and
        // a lone CR each end a line, as the lexer counts them.
        var lines: [String] = [], current = String.UnicodeScalarView(), afterCR = false
        for u in text.unicodeScalars {
            defer { afterCR = u == "\r" }
            if u == "\n" && afterCR { continue }
            if u == "\n" || u == "\r" { lines.append(String(current)); current = String.UnicodeScalarView() } else { current.append(u) }
        }
        lines.append(String(current))
        self.lines = lines
    }

    /// The text of 1-based `line`, or nil when out of range.
    public func line(_ line: Int) -> String? {
        line >= 1 && line <= lines.count ? lines[line - 1] : nil
    }
}

/// Source texts by display name, consulted when rendering diagnostics.
public final class SourceRegistry {
    private var files: [String: SourceFile] = [:]

    public init() {}

    public func add(_ file: SourceFile) { files[file.name] = file }

    public func file(named name: String) -> SourceFile? { files[name] }
}
