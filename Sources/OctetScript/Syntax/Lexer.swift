/// Turns script text into tokens.
///
/// Newlines end statements, except inside `(` `[` (unless a statement keyword starts
/// the next line, which means a bracket was left open) and before a line that starts
/// with `|>` or `.` (chained pipes and method calls). Lexical errors are collected in
/// `diagnostics` and lexing continues.
public struct Lexer {
    private let chars: [Character]
    private let file: String
    private var pos = 0
    private var line: Int
    private var column: Int
    private var brackets: [Character] = []
    /// How many `\(…)` interpolations enclose this lexer's text (at most `Parser.maxDepth`).
    var interpolationDepth = 0
    public private(set) var diagnostics: [Diagnostic] = []

    /// CRLF and lone CR line ends count as LF (Swift keeps `\r\n` as one `Character`, which
    /// would otherwise be neither whitespace nor a newline). A character made of an ASCII symbol and
    /// the combining marks after it (`"` + U+0301) is lexed as the symbol, then the marks: so a
    /// string literal may start with a combining mark, as it may in Python.
    public init(_ text: String, file: String, line: Int = 1, column: Int = 1) {
        var chars: [Character] = []
        chars.reserveCapacity(text.utf8.count)
        for c in text {
            if c == "\r\n" || c == "\r" { chars.append("\n"); continue }  // CR LF and a lone CR end a line
            let scalars = c.unicodeScalars
            if let first = scalars.first, first.isASCII, !first.properties.isAlphabetic, !("0"..."9").contains(first),
               scalars.count > 1 {
                chars.append(Character(first))
                chars.append(contentsOf: String(String.UnicodeScalarView(scalars.dropFirst())))
            } else {
                chars.append(c)
            }
        }
        self.chars = chars
        self.file = file
        self.line = line
        self.column = column
    }

    static let statementStarters: Set<String> = ["let", "if", "for", "while", "return", "import", "break", "continue"]

    /// All tokens, ending with `.eof`.
    public mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        while true {
            let tok = nextToken()
            if tok.kind == .newline, tokens.last?.kind == .newline || tokens.isEmpty { continue }
            tokens.append(tok)
            if tok.kind == .eof { return tokens }
        }
    }

    var here: SourceLocation { SourceLocation(file: file, line: line, column: column) }
    func peek(_ k: Int = 0) -> Character? { pos + k < chars.count ? chars[pos + k] : nil }

    @discardableResult
    mutating func advance() -> Character {
        let c = chars[pos]
        pos += 1
        if c == "\n" { line += 1; column = 1 } else { column += 1 }
        return c
    }

    /// Records a diagnostic; past `Parser.maxDiagnostics` they are dropped (a line of 20 000
    /// stray characters would otherwise print 20 000 errors, each with the whole line).
    mutating func error(_ message: String, at loc: SourceLocation) {
        if diagnostics.count < Parser.maxDiagnostics { diagnostics.append(Diagnostic(message, at: loc)) }
    }

    /// Whether the diagnostic limit is reached (later work only finds more of them).
    var diagnosticsFull: Bool { diagnostics.count >= Parser.maxDiagnostics }

    private mutating func nextToken() -> Token {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\r" { advance(); continue }
            if c == "#" { while let d = peek(), d != "\n" { advance() }; continue }
            if c == "\\", peek(1) == "\n" { advance(); advance(); continue }
            if c == "\n" {
                let loc = here
                advance()
                if newlineIsSignificant() { return Token(kind: .newline, text: "\n", location: loc) }
                continue
            }
            break
        }
        let start = here
        guard let c = peek() else {
            return Token(kind: .eof, text: "", location: start)
        }
        if c.isLetter || c == "_" { return identifier(start) }
        if c.isNumber, c.isASCII { return number(start) }
        if c == "\"" { return string(start) }
        return punctuation(start)
    }

    /// Decides whether the newline just consumed ends a statement.
    private mutating func newlineIsSignificant() -> Bool {
        var k = pos
        while k < chars.count {
            let c = chars[k]
            if c == " " || c == "\t" || c == "\r" || c == "\n" { k += 1; continue }
            if c == "#" { while k < chars.count, chars[k] != "\n" { k += 1 }; continue }
            break
        }
        if k < chars.count {
            if chars[k] == "|", k + 1 < chars.count, chars[k + 1] == ">" { return false }
            if chars[k] == ".", k + 1 < chars.count, chars[k + 1].isLetter { return false }
        }
        guard let top = brackets.last, top != "{" else { return true }
        var word = ""
        while k < chars.count, chars[k].isLetter || chars[k] == "_" { word.append(chars[k]); k += 1 }
        if Lexer.statementStarters.contains(word) {
            while let t = brackets.last, t != "{" { brackets.removeLast() }
            return true
        }
        return false
    }

    private mutating func identifier(_ start: SourceLocation) -> Token {
        var text = ""
        while let c = peek(), c.isLetter || c.isNumber || c == "_" { text.append(advance()) }
        return Token(kind: TokenKind.keywords[text] ?? .identifier, text: text, location: start)
    }

    private mutating func digits(_ text: inout String, hex: Bool = false) {
        while let c = peek(), c.isASCII, (hex ? c.isHexDigit : c.isNumber) || c == "_" {
            let d = advance()
            if d != "_" { text.append(d) }
        }
    }

    private mutating func number(_ start: SourceLocation) -> Token {
        var text = ""
        if peek() == "0", let x = peek(1), x == "x" || x == "X" {
            advance(); advance()
            digits(&text, hex: true)
            var tok = Token(kind: .integer, text: "0x" + text, location: start)
            if let v = Int(text, radix: 16) {
                tok.intValue = v
            } else if text.isEmpty {
                error("invalid hexadecimal literal '0x': digits must follow", at: start)
            } else {
                error("integer literal '0x\(text)' does not fit in 64 bits", at: start)
            }
            return tok
        }
        digits(&text)
        var isReal = false
        if peek() == ".", let d = peek(1), d.isASCII, d.isNumber {
            isReal = true
            text.append(advance())
            digits(&text)
        }
        if let e = peek(), e == "e" || e == "E" {
            let sign = peek(1)
            let hasSign = sign == "+" || sign == "-"
            if let d = peek(hasSign ? 2 : 1), d.isASCII, d.isNumber {
                isReal = true
                text.append(advance())
                if hasSign { text.append(advance()) }
                digits(&text)
            }
        }
        var tok = Token(kind: isReal ? .real : .integer, text: text, location: start)
        if isReal {
            tok.realValue = Double(text) ?? .nan
        } else if let v = Int(text) {
            tok.intValue = v
        } else {
            error("integer literal '\(text)' does not fit in 64 bits", at: start)
        }
        return tok
    }

    private mutating func punctuation(_ start: SourceLocation) -> Token {
        let c = advance()
        let two = peek().map { String(c) + String($0) } ?? ""
        let three = two + (peek(1).map(String.init) ?? "")
        if three == "..<" || three == "..." {
            advance(); advance()
            return Token(kind: three == "..<" ? .halfOpenRange : .closedRange, text: three, location: start)
        }
        if let kind = TokenKind(rawValue: two), two.count == 2 {
            advance()
            return Token(kind: kind, text: two, location: start)
        }
        switch c {
        case "(", "[", "{": brackets.append(c)
        case ")", "]": if let t = brackets.last, t != "{" { brackets.removeLast() }
        case "}":
            while let t = brackets.last, t != "{" { brackets.removeLast() }
            if !brackets.isEmpty { brackets.removeLast() }
        default: break
        }
        if let kind = TokenKind(rawValue: String(c)) {
            return Token(kind: kind, text: String(c), location: start)
        }
        error("unexpected character '\(Lexer.shown(c))'", at: start)
        return nextToken()
    }

    /// A character as messages show it: printable ones as they are, control and other
    /// invisible ones escaped (`\r`, `\t`, `\0`, else `U+XXXX`), so diagnostics never
    /// carry raw control bytes to the terminal.
    static func shown(_ c: Character) -> String {
        Escaping.escaped(c.unicodeScalars) { scalar in
            switch scalar {
            case "\0": return "\\0"
            case "\t": return "\\t"
            case "\n": return "\\n"
            case "\r": return "\\r"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
                    return "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
                default:
                    return nil
                }
            }
        }
    }
}

private extension String {
    /// The string with leading zeros up to `width` characters.
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
