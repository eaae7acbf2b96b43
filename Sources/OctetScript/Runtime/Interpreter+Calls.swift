extension Interpreter {
    /// Calls any callable value with positional then named arguments.
    func call(_ callee: Value, positional: [Value], named: [(String, Value, SourceLocation)],
              at loc: SourceLocation, argumentLocations: [SourceLocation]) throws -> Value {
        switch callee {
        case .closure(let c):
            return try callClosure(c, positional, named, at: loc)
        case .builtin(let b):
            return try callBuiltin(b, positional, named, at: loc, argumentLocations: argumentLocations)
        case .method(let m):
            return try callBuiltin(m.builtin, [m.receiver] + positional, named, at: loc,
                                   argumentLocations: [loc] + argumentLocations, isMethod: true)
        default:
            throw error("\(callee.typeName) is not callable", at: loc)
        }
    }

    func pushCall(_ name: String, at loc: SourceLocation) throws {
        try checkCancellation(loc)  // recursion without a loop stops on Ctrl-C too
        if callStack.count >= maxCallDepth {
            throw error("stack overflow: more than \(maxCallDepth) nested calls", at: loc)
        }
        callStack.append(CallRecord(name: name, callSite: loc))
    }

    func callClosure(_ c: Closure, _ positional: [Value], _ named: [(String, Value, SourceLocation)],
                     at loc: SourceLocation) throws -> Value {
        let decl = c.decl
        let params = decl.parameters
        let name = decl.displayName
        if positional.count > params.count {
            throw error("\(name): expected at most \(params.count) argument\(params.count == 1 ? "" : "s"), got \(positional.count)", at: loc)
        }
        let frame = Frame(size: decl.frameSize, parent: c.frame)
        for (i, v) in positional.enumerated() { frame.slots[i] = v }
        var given = positional.count == params.count && named.isEmpty ? [] : Array(repeating: false, count: params.count)
        if !given.isEmpty {
            for i in 0..<positional.count { given[i] = true }
            for (n, v, nloc) in named {
                guard let i = params.firstIndex(where: { $0.name == n }) else {
                    throw error("\(name): unknown argument '\(n)'; accepted: " + params.map(\.name).joined(separator: ", "), at: nloc)
                }
                if given[i] { throw error("\(name): argument '\(n)' given twice", at: nloc) }
                frame.slots[i] = v
                given[i] = true
            }
        }
        for (i, p) in params.enumerated() where !given.isEmpty && !given[i] && p.defaultValue == nil {
            throw error("\(name): missing argument '\(p.name)'", at: loc)
        }
        try pushCall(name, at: loc)
        defer { callStack.removeLast() }
        for (i, p) in params.enumerated() where !given.isEmpty && !given[i] {
            frame.slots[i] = try evaluate(p.defaultValue!, frame)
        }
        return try runBody(decl, frame)
    }

    func runBody(_ decl: FunctionDecl, _ frame: Frame) throws -> Value {
        let body = decl.body
        if decl.returnsLastExpression, let last = body.last, case .expression(let e) = last.kind {
            switch try execute(body.dropLast().map { $0 }, frame) {
            case .returned(let v): return v
            case .breakLoop, .continueLoop: throw error("'break' or 'continue' outside a loop", at: last.location)
            case .normal: return try evaluate(e, frame)
            }
        }
        switch try execute(body, frame) {
        case .returned(let v): return v
        case .normal: return .null
        case .breakLoop, .continueLoop: throw error("'break' or 'continue' outside a loop", at: decl.location)
        }
    }

    func callBuiltin(_ b: Builtin, _ positional: [Value], _ named: [(String, Value, SourceLocation)],
                     at loc: SourceLocation, argumentLocations: [SourceLocation], isMethod: Bool = false) throws -> Value {
        let args = try bindArguments(b, positional, named, at: loc, argumentLocations: argumentLocations, isMethod: isMethod)
        let outerSite = builtinCallSite
        builtinCallSite = loc
        defer { builtinCallSite = outerSite }
        do {
            return try b.body(args, self)
        } catch let e as RuntimeError {
            throw e
        } catch let e as BindingError {
            throw error(b.displayName + ": " + e.description, at: args.location(of: e))
        } catch is CancellationError {
            throw error("interrupted", at: loc, interruption: true)
        } catch {
            throw self.error("\(b.displayName): \(error)", at: loc)
        }
    }

    /// Checks counts and names and fills defaults, producing the builtin's `Arguments`.
    /// Positional parameters not given by position may be given by name (`sqrt(x: 4)`).
    /// Errors: too many positional arguments, an unknown name (listing the accepted ones),
    /// an argument given twice, a missing required argument.
    func bindArguments(_ b: Builtin, _ positional: [Value], _ named: [(String, Value, SourceLocation)],
                       at loc: SourceLocation, argumentLocations: [SourceLocation], isMethod: Bool) throws -> Arguments {
        let shown = isMethod ? 1 : 0
        if positional.count > b.positional.count && !b.variadic {
            throw error("\(b.displayName): expected at most \(b.positional.count - shown) positional argument\(b.positional.count - shown == 1 ? "" : "s"), got \(positional.count - shown)",
                        at: argumentLocations.indices.contains(b.positional.count) ? argumentLocations[b.positional.count] : loc)
        }
        let positionalNames = b.positional.dropFirst(shown).map(\.name)
        var namedValues: [String: Value] = [:]
        var namedLocations: [String: SourceLocation] = [:]
        for p in b.named { namedValues[p.name] = p.defaultValue ?? .null }
        var byName: [String: (Value, SourceLocation)] = [:]
        for (n, v, nloc) in named {
            if positionalNames.contains(n) {
                if b.positional.firstIndex(where: { $0.name == n })! < positional.count {
                    throw error("\(b.displayName): argument '\(n)' given twice", at: nloc)
                }
                byName[n] = (v, nloc)
                continue
            }
            guard namedValues[n] != nil else {
                let accepted = b.positional.dropFirst(max(shown, positional.count)).map(\.name) + b.named.map(\.name)
                let detail = accepted.isEmpty ? "\(b.displayName) takes no named arguments" : "accepted: " + accepted.joined(separator: ", ")
                throw error("\(b.displayName): unknown argument '\(n)'; \(detail)", at: nloc)
            }
            namedValues[n] = v
            namedLocations[n] = nloc
        }
        var values = positional
        var locations = argumentLocations
        for (i, p) in b.positional.enumerated() where i >= positional.count {
            if let (v, nloc) = byName[p.name] {
                values.append(v)
                if locations.count == i { locations.append(nloc) }
            } else if let d = p.defaultValue {
                values.append(d)
                if locations.count == i { locations.append(loc) }
            } else {
                let required = b.positional.filter { $0.defaultValue == nil }.count
                throw error("\(b.displayName): missing argument '\(p.name)' (expected \(required - shown)\(b.positional.count > required ? "+" : ""), got \(positional.count - shown))", at: loc)
            }
        }
        return Arguments(callee: b.displayName, values: values, named: namedValues, callLocation: loc,
                         locations: locations, namedLocations: namedLocations, firstShown: shown)
    }
}
