extension Parser {
    mutating func expression() throws -> Expr {
        try enterNesting()
        defer { depth -= 1 }
        return try pipe()
    }

    /// `a |> f(b)` is `f(a, b)`; `a |> f` is `f(a)`.
    mutating func pipe() throws -> Expr {
        var left = try or()
        var links = 0
        while check(.pipe) || (check(.newline) && checkNext(.pipe)) {
            try chainLink(&links)
            skipNewlines()
            let op = advance()
            skipNewlines()
            let right = try postfix()
            if case .call(let callee, let args) = right.kind {
                let first = CallArgument(name: nil, value: left, location: left.location)
                left = Expr(.call(callee: callee, arguments: [first] + args), at: right.location)
            } else {
                left = Expr(.call(callee: right, arguments: [CallArgument(name: nil, value: left, location: left.location)]),
                            at: op.location)
            }
        }
        return left
    }

    mutating func or() throws -> Expr {
        var left = try and()
        var links = 0
        while check(.kwOr) {
            try chainLink(&links)
            let op = advance(); skipContinuation()
            left = Expr(.logical(.or, left, try and()), at: op.location)
        }
        return left
    }

    mutating func and() throws -> Expr {
        var left = try not()
        var links = 0
        while check(.kwAnd) {
            try chainLink(&links)
            let op = advance(); skipContinuation()
            left = Expr(.logical(.and, left, try not()), at: op.location)
        }
        return left
    }

    mutating func not() throws -> Expr {
        if check(.kwNot) {
            let op = advance(); skipContinuation()
            try enterNesting()
            defer { depth -= 1 }
            return Expr(.unary(.not, try not()), at: op.location)
        }
        return try comparison()
    }

    mutating func comparison() throws -> Expr {
        let ops: [TokenKind: BinaryOp] = [.equalEqual: .equal, .bangEqual: .notEqual, .less: .less,
                                          .lessEqual: .lessEqual, .greater: .greater, .greaterEqual: .greaterEqual]
        var left = try range()
        var links = 0
        while let op = ops[peek.kind] {
            try chainLink(&links)
            let tok = advance(); skipContinuation()
            left = Expr(.binary(op, left, try range()), at: tok.location)
        }
        return left
    }

    mutating func range() throws -> Expr {
        let left = try additive()
        if check(.halfOpenRange) || check(.closedRange) {
            let tok = advance(); skipContinuation()
            return Expr(.range(left, try additive(), inclusive: tok.kind == .closedRange), at: tok.location)
        }
        return left
    }

    mutating func additive() throws -> Expr {
        var left = try multiplicative()
        var links = 0
        while check(.plus) || check(.minus) {
            try chainLink(&links)
            let tok = advance(); skipContinuation()
            left = Expr(.binary(tok.kind == .plus ? .add : .subtract, left, try multiplicative()), at: tok.location)
        }
        return left
    }

    mutating func multiplicative() throws -> Expr {
        let ops: [TokenKind: BinaryOp] = [.star: .multiply, .slash: .divide, .percent: .modulo]
        var left = try unary()
        var links = 0
        while let op = ops[peek.kind] {
            try chainLink(&links)
            let tok = advance(); skipContinuation()
            left = Expr(.binary(op, left, try unary()), at: tok.location)
        }
        return left
    }

    mutating func unary() throws -> Expr {
        if check(.minus) {
            let tok = advance(); skipContinuation()
            try enterNesting()
            defer { depth -= 1 }
            let operand = try unary()
            if case .literal(.int(let v)) = operand.kind { return Expr(.literal(.int(-v)), at: tok.location) }
            if case .literal(.real(let v)) = operand.kind { return Expr(.literal(.real(-v)), at: tok.location) }
            return Expr(.unary(.negate, operand), at: tok.location)
        }
        return try postfix()
    }

    mutating func postfix() throws -> Expr {
        var expr = try primary()
        var links = 0
        while true {
            try chainLink(&links)
            if check(.leftParen) {
                advance()
                expr = Expr(.call(callee: expr, arguments: try arguments()), at: expr.location)
            } else if check(.dot) {
                advance()
                let name = try expect(.identifier, "after '.'")
                expr = Expr(.member(expr, name: name.text), at: name.location)
            } else if check(.leftBracket) {
                let open = advance()
                var indices = [try expression()]
                while match(.comma) { indices.append(try expression()) }
                try expect(.rightBracket, "to close the index")
                expr = Expr(.index(expr, indices), at: open.location)
            } else {
                return expr
            }
        }
    }

    /// Positional then named arguments, after `(`, through `)`.
    mutating func arguments() throws -> [CallArgument] {
        var args: [CallArgument] = []
        while !check(.rightParen) {
            let loc = peek.location
            if check(.identifier) && checkNext(.colon) {
                let name = advance().text
                advance()
                if args.contains(where: { $0.name == name }) { report("duplicate argument '\(name)'", at: loc) }
                args.append(CallArgument(name: name, value: try expression(), location: loc))
            } else {
                let value = try expression()
                if args.last?.name != nil { report("positional argument after named arguments", at: loc) }
                args.append(CallArgument(name: nil, value: value, location: loc))
            }
            if !match(.comma) { break }
        }
        try expect(.rightParen, "after arguments")
        return args
    }

    mutating func primary() throws -> Expr {
        let tok = peek
        switch tok.kind {
        case .integer: advance(); return Expr(.literal(.int(tok.intValue)), at: tok.location)
        case .real: advance(); return Expr(.literal(.real(tok.realValue)), at: tok.location)
        case .kwTrue: advance(); return Expr(.literal(.bool(true)), at: tok.location)
        case .kwFalse: advance(); return Expr(.literal(.bool(false)), at: tok.location)
        case .kwNil: advance(); return Expr(.literal(.null), at: tok.location)
        case .string: advance(); return try stringLiteral(tok)
        case .identifier: advance(); return Expr(.variable(resolve(tok.text)), at: tok.location)
        case .leftParen:
            advance()
            let inner = try expression()
            try expect(.rightParen, "to close '('")
            return inner
        case .leftBracket:
            advance()
            var items: [Expr] = []
            while !check(.rightBracket) {
                items.append(try expression())
                if !match(.comma) { break }
            }
            try expect(.rightBracket, "to close the list")
            return Expr(.list(items), at: tok.location)
        case .leftBrace: return try recordLiteral()
        case .kwFn:
            advance()
            return Expr(.function(try functionRest(name: nil, isClosure: true, at: tok.location)), at: tok.location)
        default:
            throw fail("expected expression, found \(describe(tok))", at: tok.location)
        }
    }

    mutating func recordLiteral() throws -> Expr {
        let open = advance()
        var keys: [String] = [], values: [Expr] = [], seen: Set<String> = []
        skipNewlines()
        while !check(.rightBrace) {
            let key = peek
            guard key.kind == .identifier || (key.kind == .string && key.parts.count == 1) else {
                throw fail("expected record key (name or string), found \(describe(key))", at: key.location)
            }
            advance()
            var name = key.text
            if key.kind == .string, case .text(let t) = key.parts[0] { name = t }
            if !seen.insert(name).inserted { report("duplicate record key '\(name)'", at: key.location) }
            try expect(.colon, "after record key")
            skipNewlines()
            keys.append(name)
            values.append(try expression())
            skipNewlines()
            if !match(.comma) { break }
            skipNewlines()
        }
        try expect(.rightBrace, "to close the record")
        return Expr(.record(keys: keys, values: values), at: open.location)
    }

    /// A string token with `\(expr)` parts parses each part with this parser's scopes.
    mutating func stringLiteral(_ tok: Token) throws -> Expr {
        if tok.parts.count == 1, case .text(let t) = tok.parts[0] { return Expr(.literal(.string(t)), at: tok.location) }
        var parts: [InterpolationPart] = []
        for part in tok.parts {
            switch part {
            case .text(let t): parts.append(.text(t))
            case .code(let inner, let loc):
                let (savedTokens, savedCurrent) = (tokens, current)
                tokens = inner.filter { $0.kind != .newline }
                current = 0
                interpolations += 1
                defer { tokens = savedTokens; current = savedCurrent; interpolations -= 1 }
                if check(.eof) { throw fail("empty interpolation '\\()' in string", at: loc) }
                let e = try expression()
                if !check(.eof) { throw fail("expected ')' to end interpolation, found \(describe(peek))", at: peek.location) }
                parts.append(.expr(e))
            }
        }
        return Expr(.interpolation(parts), at: tok.location)
    }
}
