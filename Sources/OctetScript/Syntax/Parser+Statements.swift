extension Parser {
    /// Parses one statement; on a syntax error records it, skips ahead, returns nil.
    mutating func statementRecovering() -> Stmt? {
        let saved = depth
        do {
            let s = try statement()
            if !(check(.newline) || check(.semicolon) || check(.rightBrace) || check(.eof)) {
                throw fail("expected end of line after statement, found \(describe(peek))", at: peek.location)
            }
            return s
        } catch {
            depth = saved
            synchronize()
            return nil
        }
    }

    mutating func statement() throws -> Stmt {
        try enterNesting()
        defer { depth -= 1 }
        let start = peek.location
        switch peek.kind {
        case .kwLet: return try letStatement()
        case .kwFn where checkNext(.identifier): return try functionStatement()
        case .kwIf: return try ifStatement()
        case .kwFor: return try forStatement()
        case .kwWhile:
            advance()
            let cond = try expression()
            loops += 1
            defer { loops -= 1 }
            return Stmt(.whileLoop(condition: cond, body: try block()), at: start)
        case .kwBreak, .kwContinue:
            let word = advance().text
            guard loops > 0 else { throw fail("'\(word)' outside a loop", at: start) }
            return Stmt(word == "break" ? .breakLoop : .continueLoop, at: start)
        case .kwReturn:
            advance()
            if check(.newline) || check(.semicolon) || check(.rightBrace) || check(.eof) {
                return Stmt(.returnValue(nil), at: start)
            }
            return Stmt(.returnValue(try expression()), at: start)
        case .kwImport:
            advance()
            let path = try expect(.string, "after 'import'")
            guard path.parts.count == 1, case .text(let text) = path.parts[0] else {
                throw fail("import path must be a plain string", at: path.location)
            }
            return Stmt(.importFile(path: text), at: start)
        case .leftBrace:
            return Stmt(.block(try block()), at: start)
        default:
            return try expressionStatement()
        }
    }

    mutating func letStatement() throws -> Stmt {
        let start = advance().location
        let name = try expect(.identifier, "after 'let'")
        try expect(.equal, "after 'let \(name.text)'")
        skipNewlines()
        let value = try expression()
        let target = declare(name.text, at: name.location)
        return Stmt(.letDecl(name: name.text, target: target, value: value), at: start)
    }

    mutating func functionStatement() throws -> Stmt {
        let start = advance().location
        let name = advance()
        let target = declare(name.text, at: name.location)
        let decl = try functionRest(name: name.text, isClosure: true, at: start)
        return Stmt(.function(decl, target: target), at: start)
    }

    /// Parameters and body after `fn` or `fn name`, in a new function scope.
    mutating func functionRest(name: String?, isClosure: Bool, at start: SourceLocation) throws -> FunctionDecl {
        try expect(.leftParen, "to start the parameter list")
        scopes.append(FunctionScope(isTopLevel: false))
        let outerLoops = loops
        loops = 0  // a loop around the function does not make `break` inside it valid
        defer { scopes.removeLast(); loops = outerLoops }
        var params: [Parameter] = []
        var sawDefault = false
        while !check(.rightParen) {
            let p = try expect(.identifier, "as parameter name")
            var def: Expr?
            if match(.colon) { def = try expression(); sawDefault = true } else if sawDefault {
                report("parameter '\(p.text)' without a default follows one with a default", at: p.location)
            }
            if params.contains(where: { $0.name == p.text }) {
                report("duplicate parameter '\(p.text)'", at: p.location)
            } else {
                _ = declare(p.text, at: p.location)
            }
            params.append(Parameter(name: p.text, defaultValue: def, location: p.location))
            if !match(.comma) { break }
        }
        try expect(.rightParen, "after parameters")
        let decl = FunctionDecl(name: name, parameters: params, returnsLastExpression: isClosure, location: start)
        decl.body = try block(newScope: false)
        decl.frameSize = scopes[scopes.count - 1].nextSlot
        return decl
    }

    mutating func ifStatement() throws -> Stmt {
        let start = advance().location
        var branches = [ConditionalBranch(condition: try expression(), body: try block())]
        var elseBody: [Stmt]?
        while check(.kwElse) || (check(.newline) && checkNext(.kwElse)) {
            skipNewlines()
            advance()
            if match(.kwIf) {
                branches.append(ConditionalBranch(condition: try expression(), body: try block()))
            } else {
                elseBody = try block()
                break
            }
        }
        return Stmt(.ifChain(branches, elseBody: elseBody), at: start)
    }

    mutating func forStatement() throws -> Stmt {
        let start = advance().location
        let name = try expect(.identifier, "after 'for'")
        try expect(.kwIn, "after the loop variable")
        let iterable = try expression()
        beginBlock()
        defer { endBlock() }
        let target = declare(name.text, at: name.location)
        loops += 1
        defer { loops -= 1 }
        let body = try block()
        return Stmt(.forIn(name: name.text, target: target, iterable: iterable, body: body), at: start)
    }

    /// `{ statements }`; recovers from errors inside so one bad line does not hide others.
    mutating func block(newScope: Bool = true) throws -> [Stmt] {
        try expect(.leftBrace, "to start a block")
        if newScope { beginBlock() }
        defer { if newScope { endBlock() } }
        var body: [Stmt] = []
        skipSeparators()
        while !check(.rightBrace) && !check(.eof) {
            if let s = statementRecovering() { body.append(s) }
            skipSeparators()
        }
        try expect(.rightBrace, "to close the block")
        return body
    }

    mutating func expressionStatement() throws -> Stmt {
        let start = peek.location
        let expr = try expression()
        let ops: [TokenKind: AssignOp] = [.equal: .assign, .plusEqual: .add, .minusEqual: .subtract,
                                          .starEqual: .multiply, .slashEqual: .divide]
        guard let op = ops[peek.kind] else { return Stmt(.expression(expr), at: start) }
        let opTok = advance()
        switch expr.kind {
        case .variable, .member, .index: break
        default: throw fail("cannot assign to this expression", at: opTok.location)
        }
        skipNewlines()
        let value = try expression()
        return Stmt(.assign(target: expr, op: op, value: value), at: start)
    }
}
