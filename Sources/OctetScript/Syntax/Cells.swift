import Foundation

/// A jupytext-style cell: a `# %%` header line starts one; `# %% [markdown]` marks a
/// Markdown cell whose `#`-comment lines are rendered, not run.
public struct Cell: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case code, markdown }
    public var kind: Kind
    public var title: String
    /// 1-based first and last line of the cell's body (header excluded).
    public var firstLine: Int
    public var lastLine: Int
    public var source: String

    /// Splits `text` into cells. Lines before the first header form an untitled code cell
    /// (dropped when blank).
    public static func split(_ text: String) -> [Cell] {
        let lines = SourceFile(name: "", text: text).lines
        var cells: [Cell] = []
        var current = Cell(kind: .code, title: "", firstLine: 1, lastLine: 0, source: "")
        var body: [String] = []
        func flush(endingAt end: Int) {
            current.lastLine = end
            current.source = body.joined(separator: "\n")
            while current.source.hasSuffix("\n") { current.source.removeLast() }
            if !(current.title.isEmpty && current.source.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && cells.isEmpty) {
                cells.append(current)
            }
        }
        for (i, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("# %%") || trimmed == "#%%" {
                flush(endingAt: i)
                var rest = trimmed.dropFirst(trimmed.hasPrefix("# %%") ? 4 : 3).trimmingCharacters(in: .whitespaces)
                var kind = Kind.code
                if rest.hasPrefix("[markdown]") {
                    kind = .markdown
                    rest = rest.dropFirst("[markdown]".count).trimmingCharacters(in: .whitespaces)
                }
                current = Cell(kind: kind, title: rest, firstLine: i + 2, lastLine: i + 1, source: "")
                body = []
            } else {
                body.append(line)
            }
        }
        flush(endingAt: lines.count)
        return cells
    }

    /// Markdown text of a markdown cell: comment markers (`# ` or `#`) stripped.
    public var markdown: String {
        source.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let t = line.drop(while: { $0 == " " })
            if t.hasPrefix("# ") { return String(t.dropFirst(2)) }
            if t.hasPrefix("#") { return String(t.dropFirst()) }
            return String(line)
        }.joined(separator: "\n").trimmingCharacters(in: .newlines)
    }
}
