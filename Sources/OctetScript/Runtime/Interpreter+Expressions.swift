extension Interpreter {
    func evaluate(_ expr: Expr, _ frame: Frame) throws -> Value {
        switch expr.kind {
        case .literal(let lit):
            switch lit {
            case .int(let i): return .int(i)
            case .real(let r): return .real(r)
            case .string(let s): return .string(s)
            case .bool(let b): return .bool(b)
            case .null: return .null
            }
        case .variable(let ref):
            switch ref.resolution {
            case .local(let hops, let slot):
                return hops == 0 ? frame.slots[slot] : frame.ancestor(hops).slots[slot]
            case .global:
                return try lookupGlobal(ref, at: expr.location)
            }
        case .binary(let op, let l, let r):
            return try binaryOperation(op, try evaluate(l, frame), try evaluate(r, frame), at: expr.location)
        case .logical(let op, let l, let r):
            let left = try truth(try evaluate(l, frame), l.location, "left operand of '\(op.rawValue)'")
            if op == .and && !left { return .bool(false) }
            if op == .or && left { return .bool(true) }
            return .bool(try truth(try evaluate(r, frame), r.location, "right operand of '\(op.rawValue)'"))
        case .unary(let op, let operand):
            return try unaryOperation(op, try evaluate(operand, frame), at: expr.location)
        case .call(let callee, let arguments):
            return try evaluateCall(callee, arguments, frame, at: expr.location)
        case .member(let object, let name):
            return try member(of: try evaluate(object, frame), name, at: expr.location)
        case .index(let object, let indices):
            let base = try evaluate(object, frame)
            return try index(base, try indices.map { try evaluate($0, frame) }, at: expr.location)
        case .interpolation(let parts):
            var s = ""
            for p in parts {
                switch p {
                case .text(let t): s += t
                case .expr(let e):
                    let v = try evaluate(e, frame)
                    s += try checkLimit(at: expr.location) { try Format.display(v, after: s.utf8.count) }
                }
                try checkLimit(at: expr.location) { try Limits.checkString(s.utf8.count) }
            }
            return .string(s)
        case .list(let items):
            return .list(ListObject(try items.map { try evaluate($0, frame) }))
        case .record(let keys, let values):
            let rec = RecordObject()
            for (k, v) in zip(keys, values) { rec[k] = try evaluate(v, frame) }
            return .record(rec)
        case .range(let lo, let hi, let inclusive):
            let a = try integer(try evaluate(lo, frame), lo.location, "range start")
            let b = try integer(try evaluate(hi, frame), hi.location, "range end")
            if inclusive && b == Int.max { throw error("an inclusive range cannot end at the largest integer \(b); use ..< (exclusive)", at: hi.location) }
            return .range(try checkLimit(at: expr.location) {
                try RangeValue.checked(lower: a, upper: inclusive ? b + 1 : b, wasClosed: inclusive)
            })
        case .function(let decl):
            return .closure(Closure(decl: decl, frame: frame))
        }
    }

    @inline(__always)
    func lookupGlobal(_ ref: VariableRef, at loc: SourceLocation) throws -> Value {
        if ref.globalSlot >= 0 && ref.globalSlot < globals.count { return globals[ref.globalSlot] }
        if let i = globalIndex[ref.name] {
            ref.globalSlot = i
            return globals[i]
        }
        throw error("unknown name '\(ref.name)'" + Suggestions.didYouMean(ref.name, among: globalNames + ref.visibleLocals), at: loc)
    }

    func integer(_ v: Value, _ loc: SourceLocation, _ what: String) throws -> Int {
        if case .int(let i) = v { return i }
        if case .real(let r) = v, r == r.rounded(), abs(r) < 9e15 { return Int(r) }
        throw error("\(what) must be an integer, got \(v.typeName)", at: loc)
    }

    func evaluateCall(_ calleeExpr: Expr, _ arguments: [CallArgument], _ frame: Frame, at loc: SourceLocation) throws -> Value {
        let callee = try evaluate(calleeExpr, frame)
        var positional: [Value] = []
        positional.reserveCapacity(arguments.count)
        var named: [(String, Value, SourceLocation)] = []
        var locations: [SourceLocation] = []
        for a in arguments {
            let v = try evaluate(a.value, frame)
            if let n = a.name { named.append((n, v, a.location)) } else {
                positional.append(v)
                locations.append(a.location)
            }
        }
        return try call(callee, positional: positional, named: named, at: loc, argumentLocations: locations)
    }
}
