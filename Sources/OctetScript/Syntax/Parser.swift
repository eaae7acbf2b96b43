/// Recursive-descent parser with static scope resolution and error recovery.
///
/// Statements end at a newline, `;` or `}`. After a syntax error the parser records a
/// diagnostic, skips to the next statement and continues, so one run reports every
/// syntax error (`diagnostics`). Names are resolved while parsing: locals become frame
/// slots, everything else is looked up in the global table at run time.
public struct Parser {
    struct Failure: Error {}

    struct FunctionScope {
        var blocks: [[String: Int]] = [[:]]
        var nextSlot = 0
        let isTopLevel: Bool
    }

    var tokens: [Token]
    var current = 0
    let file: String
    var scopes: [FunctionScope] = [FunctionScope(isTopLevel: true)]
    var depth = 0
    /// Loops enclosing the statement being parsed within the current function (`break` and
    /// `continue` need one).
    var loops = 0
    /// `\(…)` interpolations being parsed: their end is the `)`, not the end of the file.
    var interpolations = 0
    public private(set) var diagnostics: [Diagnostic] = []
    static let maxDepth = 200
    static let maxDiagnostics = 50

    public init(tokens: [Token], file: String) {
        self.tokens = tokens
        self.file = file
    }

    /// Lexes and parses `source`; lexical and syntax errors are both in `diagnostics`.
    public static func parse(_ source: String, file: String) -> (Program, [Diagnostic]) {
        var lexer = Lexer(source, file: file)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, file: file)
        let program = parser.parseProgram()
        let all = (lexer.diagnostics + parser.diagnostics).sorted {
            ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column)
        }
        return (program, all)
    }

    public mutating func parseProgram() -> Program {
        var statements: [Stmt] = []
        skipSeparators()
        while !check(.eof) {
            if check(.rightBrace) {
                report("unexpected '}'", at: peek.location)
                advance()
                skipSeparators()
                continue
            }
            if let s = statementRecovering() { statements.append(s) }
            skipSeparators()
            if diagnostics.count >= Parser.maxDiagnostics { break }
        }
        return Program(file: file, statements: statements, frameSize: scopes[0].nextSlot)
    }

    // MARK: token helpers

    var peek: Token { tokens[current] }
    var previous: Token { tokens[max(current - 1, 0)] }
    func check(_ kind: TokenKind) -> Bool { tokens[current].kind == kind }
    func checkNext(_ kind: TokenKind) -> Bool { current + 1 < tokens.count && tokens[current + 1].kind == kind }

    @discardableResult
    mutating func advance() -> Token {
        let t = tokens[current]
        if t.kind != .eof { current += 1 }
        return t
    }

    mutating func match(_ kinds: TokenKind...) -> Bool {
        if kinds.contains(peek.kind) { advance(); return true }
        return false
    }

    @discardableResult
    mutating func expect(_ kind: TokenKind, _ what: String) throws -> Token {
        if check(kind) { return advance() }
        throw fail("expected \(kind.display) \(what), found \(describe(peek))", at: errorLocation)
    }

    /// Where a missing token belongs: at the offending token, or just after the previous
    /// token when the line or file ended early.
    var errorLocation: SourceLocation {
        guard check(.newline) || check(.eof), current > 0 else { return peek.location }
        var loc = previous.location
        loc.column += previous.text.count
        return loc
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .identifier: return "'\(t.text)'"
        case .integer, .real: return "number \(t.text)"
        case .string: return "string"
        case .eof where interpolations > 0: return "')' ending the interpolation"
        default: return t.kind.display
        }
    }

    mutating func skipNewlines() { while check(.newline) { advance() } }

    static let statementKeywords: Set<TokenKind> = [.kwLet, .kwIf, .kwFor, .kwWhile, .kwReturn, .kwImport, .kwBreak, .kwContinue]

    /// Skips the newline after a binary operator (the expression continues on the next
    /// line) unless the next line starts a statement, so a dangling operator is reported
    /// where it is instead of swallowing the next statement.
    mutating func skipContinuation() {
        if check(.newline), current + 1 < tokens.count, Parser.statementKeywords.contains(tokens[current + 1].kind) { return }
        skipNewlines()
    }
    mutating func skipSeparators() { while check(.newline) || check(.semicolon) { advance() } }

    mutating func report(_ message: String, at loc: SourceLocation) {
        if diagnostics.count < Parser.maxDiagnostics { diagnostics.append(Diagnostic(message, at: loc)) }
    }

    mutating func fail(_ message: String, at loc: SourceLocation) -> Failure {
        report(message, at: loc)
        return Failure()
    }

    /// Skips to the start of the next statement, stepping over whole `{ ... }` groups.
    mutating func synchronize() {
        var braces = 0
        while !check(.eof) {
            switch peek.kind {
            case .leftBrace: braces += 1
            case .rightBrace:
                if braces == 0 { return }
                braces -= 1
            case .newline, .semicolon:
                if braces == 0 { advance(); return }
            default: break
            }
            advance()
        }
    }

    // MARK: scopes

    mutating func beginBlock() { scopes[scopes.count - 1].blocks.append([:]) }
    mutating func endBlock() { scopes[scopes.count - 1].blocks.removeLast() }

    /// Declares `name` in the innermost block; the top level's outermost block is global.
    mutating func declare(_ name: String, at loc: SourceLocation) -> BindingTarget {
        let f = scopes.count - 1
        if scopes[f].isTopLevel && scopes[f].blocks.count == 1 { return .global(name: name) }
        let b = scopes[f].blocks.count - 1
        if scopes[f].blocks[b][name] != nil {
            report("'\(name)' is already declared in this scope", at: loc)
        }
        let slot = scopes[f].nextSlot
        scopes[f].nextSlot += 1
        scopes[f].blocks[b][name] = slot
        return .local(slot: slot)
    }

    func resolve(_ name: String) -> VariableRef {
        for (hops, scope) in scopes.reversed().enumerated() {
            for block in scope.blocks.reversed() {
                if let slot = block[name] { return VariableRef(name: name, resolution: .local(hops: hops, slot: slot)) }
            }
        }
        let locals = scopes.flatMap { $0.blocks.flatMap { $0.keys } }
        return VariableRef(name: name, resolution: .global, visibleLocals: locals)
    }

    /// Most operators, calls or member accesses chained in one expression: each adds a level
    /// to the tree the interpreter walks recursively.
    static let maxChain = 100_000

    /// Counts one more link of an operator or postfix chain; throws past `maxChain`.
    mutating func chainLink(_ links: inout Int) throws {
        links += 1
        if links > Parser.maxChain {
            throw fail("expression chains more than \(Parser.maxChain) operators or calls; split it", at: peek.location)
        }
    }

    mutating func enterNesting() throws {
        depth += 1
        if depth > Parser.maxDepth {
            throw fail("expression or block nested too deeply (limit \(Parser.maxDepth))", at: peek.location)
        }
    }
}
