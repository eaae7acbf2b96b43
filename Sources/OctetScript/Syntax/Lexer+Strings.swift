extension Lexer {
    /// Lexes a string literal starting at `"`, with escapes `\n \t \" \\ \0` and
    /// `\(expr)` interpolation (the inner code is lexed with its true location).
    mutating func string(_ start: SourceLocation) -> Token {
        advance()
        var parts: [StringPart] = []
        var text = ""
        var raw = "\""
        scan: while true {
            guard let c = peek(), c != "\n" else {
                error("unterminated string literal", at: start)
                break
            }
            if c == "\"" { advance(); raw.append("\""); break }
            if c == "\\" {
                let escLoc = here
                advance()
                guard let e = peek(), e != "\n" else { continue }
                advance()
                raw.append("\\"); raw.append(e)
                switch e {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "r": text.append("\r")
                case "0": text.append("\0")
                case "\"": text.append("\"")
                case "\\": text.append("\\")
                case "(":
                    if !text.isEmpty { parts.append(.text(text)); text = "" }
                    // An interpolation open at the end of the line is the one error: the string ends there too.
                    guard let part = interpolation(start: here) else { break scan }
                    parts.append(part)
                default: error("unknown escape sequence '\\\(e)'", at: escLoc)
                }
                continue
            }
            text.append(advance())
            raw.append(c)
        }
        if !text.isEmpty || parts.isEmpty { parts.append(.text(text)) }
        var tok = Token(kind: .string, text: raw, location: start)
        tok.parts = parts
        return tok
    }

    /// Scans `expr)` after `\(`, balancing parentheses and skipping nested strings; nil, reported,
    /// when the line ends first.
    private mutating func interpolation(start: SourceLocation) -> StringPart? {
        var code = ""
        var depth = 1
        var inString = false
        while let c = peek(), c != "\n" {
            if inString {
                if c == "\\" { code.append(advance()); if let n = peek(), n != "\n" { code.append(advance()) }; continue }
                if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "(" {
                depth += 1
            } else if c == ")" {
                depth -= 1
                if depth == 0 { advance(); break }
            }
            code.append(advance())
        }
        if depth != 0 {
            error("unterminated interpolation '\\(' in string", at: start)
            return nil
        }
        if diagnosticsFull { return .code([Token(kind: .eof, text: "", location: start)], start) }
        // Each level re-lexes the rest of its string: the depth is bounded before going deeper.
        guard interpolationDepth < Parser.maxDepth else {
            error("string interpolation nested too deeply (limit \(Parser.maxDepth))", at: start)
            return .code([Token(kind: .eof, text: "", location: start)], start)
        }
        var inner = Lexer(code, file: start.file, line: start.line, column: start.column)
        inner.interpolationDepth = interpolationDepth + 1
        let tokens = inner.tokenize()
        for d in inner.diagnostics { error(d.message, at: d.location) }
        return .code(tokens, start)
    }
}
