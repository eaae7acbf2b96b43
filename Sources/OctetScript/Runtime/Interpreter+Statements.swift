import Foundation

extension Interpreter {
    func execute(_ stmts: [Stmt], _ frame: Frame) throws -> Flow {
        for s in stmts {
            let flow = try execute(s, frame)
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    func execute(_ stmt: Stmt, _ frame: Frame) throws -> Flow {
        switch stmt.kind {
        case .expression(let e):
            _ = try evaluate(e, frame)
        case .letDecl(_, let target, let value):
            bind(target, try evaluate(value, frame), frame)
        case .assign(let target, let op, let value):
            try assign(target, op, value, frame, at: stmt.location)
        case .function(let decl, let target):
            bind(target, .closure(Closure(decl: decl, frame: frame)), frame)
        case .ifChain(let branches, let elseBody):
            for b in branches where try truth(try evaluate(b.condition, frame), b.condition.location, "if condition") {
                return try execute(b.body, frame)
            }
            if let elseBody { return try execute(elseBody, frame) }
        case .forIn(_, let target, let iterable, let body):
            return try forLoop(target, try evaluate(iterable, frame), body, frame, at: iterable.location)
        case .whileLoop(let condition, let body):
            while try truth(try evaluate(condition, frame), condition.location, "while condition") {
                try checkCancellation(stmt.location)
                switch try execute(body, frame) {
                case .normal, .continueLoop: continue
                case .breakLoop: return .normal
                case .returned(let v): return .returned(v)
                }
            }
        case .breakLoop: return .breakLoop
        case .continueLoop: return .continueLoop
        case .returnValue(let e):
            return .returned(try e.map { try evaluate($0, frame) } ?? .null)
        case .importFile(let path):
            try importFile(path, at: stmt.location)
        case .block(let body):
            return try execute(body, frame)
        }
        return .normal
    }

    @inline(__always)
    func bind(_ target: BindingTarget, _ value: Value, _ frame: Frame) {
        switch target {
        case .local(let slot): frame.slots[slot] = value
        case .global(let name): defineGlobal(name, value)
        }
    }

    @inline(__always)
    func truth(_ v: Value, _ loc: SourceLocation, _ what: @autoclosure () -> String) throws -> Bool {
        if case .bool(let b) = v { return b }
        throw error("\(what()) must be a bool, got \(v.typeName)", at: loc)
    }

    func forLoop(_ target: BindingTarget, _ sequence: Value, _ body: [Stmt], _ frame: Frame,
                 at loc: SourceLocation) throws -> Flow {
        if case .range(let r) = sequence {
            for i in 0..<r.count {
                try checkCancellation(loc)
                bind(target, .int(r.element(i)), frame)
                switch try execute(body, frame) {
                case .normal, .continueLoop: continue
                case .breakLoop: return .normal
                case .returned(let v): return .returned(v)
                }
            }
            return .normal
        }
        for item in try elements(of: sequence, at: loc) {
            try checkCancellation(loc)
            bind(target, item, frame)
            switch try execute(body, frame) {
            case .normal, .continueLoop: continue
            case .breakLoop: return .normal
            case .returned(let v): return .returned(v)
            }
        }
        return .normal
    }

    /// The items a `for` loop visits: list items, range numbers, string characters,
    /// record keys, or an iterable domain object's elements. Errors (at `loc`): a value
    /// that cannot be iterated, a range or string longer than `Limits.maxListItems`, and
    /// whatever the domain object reports.
    public func elements(of value: Value, at loc: SourceLocation) throws -> [Value] {
        do {
            switch value {
            case .list(let l): return l.items
            case .range(let r): return try r.values()
            case .string(let s):
                try Limits.checkList(s.count)
                return s.map { .string(String($0)) }
            case .record(let r): return r.keys.map { .string($0) }
            case .object(let o as IterableObject): return try o.elements()
            default: break
            }
        } catch {
            throw wrap(error, loc)
        }
        throw error("cannot iterate over \(value.typeName)", at: loc)
    }

    func assign(_ target: Expr, _ op: AssignOp, _ valueExpr: Expr, _ frame: Frame, at loc: SourceLocation) throws {
        var value = try evaluate(valueExpr, frame)
        if op != .assign {
            let binary: BinaryOp = op == .add ? .add : op == .subtract ? .subtract : op == .multiply ? .multiply : .divide
            value = try binaryOperation(binary, try evaluate(target, frame), value, at: loc)
        }
        switch target.kind {
        case .variable(let ref):
            switch ref.resolution {
            case .local(let hops, let slot): frame.ancestor(hops).slots[slot] = value
            case .global:
                if ref.globalSlot >= builtinCount && ref.globalSlot < globals.count {
                    globals[ref.globalSlot] = value
                    return
                }
                guard let i = globalIndex[ref.name] else {
                    throw error("assignment to undeclared name '\(ref.name)'; declare it with 'let \(ref.name) = ...'"
                                + Suggestions.didYouMean(ref.name, among: globalNames + ref.visibleLocals), at: target.location)
                }
                if i < builtinCount, case .builtin = globals[i] {
                    throw error("cannot assign to builtin '\(ref.name)'; use 'let \(ref.name) = ...' to shadow it", at: target.location)
                }
                globals[i] = value
                ref.globalSlot = i
            }
        case .member(let objExpr, let name):
            try setMember(try evaluate(objExpr, frame), name, value, at: target.location)
        case .index(let objExpr, let indices):
            let object = try evaluate(objExpr, frame)
            try setIndex(object, try indices.map { try evaluate($0, frame) }, value, at: target.location)
        default:
            throw error("cannot assign to this expression", at: target.location)
        }
    }

    /// Runs an imported file once; its top-level bindings become globals.
    func importFile(_ path: String, at loc: SourceLocation) throws {
        let (key, name, text) = try locateImport(path, from: loc)
        if imported.contains(key) { return }
        if importing.contains(key) { throw error("circular import of '\(path)'", at: loc) }
        let (program, diagnostics) = parse(text, file: name)
        if let first = diagnostics.first {
            var e = error("syntax error in imported '\(path)': \(first.header)", at: loc)
            e.isSyntaxError = true
            throw e
        }
        importing.append(key)
        defer { importing.removeLast() }
        let savedStack = callStack
        callStack.append(CallRecord(name: "import \"\(path)\"", callSite: loc))
        defer { callStack = savedStack }
        try run(program.statements, frameSize: program.frameSize)
        imported.insert(key)
    }

    /// Finds an import relative to the importing file, else in the embedded stdlib.
    func locateImport(_ path: String, from loc: SourceLocation) throws -> (key: String, name: String, text: String) {
        let withExt = path.hasSuffix(".octet") ? path : path + ".octet"
        let importerDir = (loc.file as NSString).deletingLastPathComponent
        var candidates: [String] = []
        if withExt.hasPrefix("/") { candidates = [withExt] } else {
            let base = (importerDir as NSString).isAbsolutePath ? importerDir : (baseDirectory as NSString).appendingPathComponent(importerDir)
            candidates = [(base as NSString).appendingPathComponent(withExt)]
        }
        for c in candidates {
            let full = (c as NSString).standardizingPath
            let read = Result { try ScriptFile.read(full) }
            if case .failure(let e as ScriptFile.Failure) = read, e != .missing {
                throw error("cannot import '\(path)': \(full): \(e)", at: loc)
            }
            if case .success(let text) = read {
                noteRead(full)
                let shown = importerDir.isEmpty ? withExt : (importerDir as NSString).appendingPathComponent(withExt)
                return (full, (shown as NSString).standardizingPath, text)
            }
        }
        let stdlibName = withExt.hasPrefix("stdlib/") ? String(withExt.dropFirst(7)) : withExt
        if let text = EmbeddedStdlib.files[stdlibName] {
            return ("stdlib:" + stdlibName, "stdlib/" + stdlibName, text)
        }
        let known = EmbeddedStdlib.files.keys.map { "stdlib/" + $0.replacingOccurrences(of: ".octet", with: "") }
        throw error("cannot find import '\(path)' next to the script or in the stdlib"
                    + Suggestions.didYouMean(path, among: known), at: loc)
    }
}

/// A domain object a `for` loop can visit.
public protocol IterableObject: DomainObject {
    func elements() throws -> [Value]
}
