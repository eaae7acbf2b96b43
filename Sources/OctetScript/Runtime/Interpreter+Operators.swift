import Foundation

/// A domain object that takes part in `+ - * / %` and comparisons (tensors broadcast).
public protocol OperandObject: DomainObject {
    /// `self op other` when `selfOnLeft`, else `other op self`; nil if unsupported.
    func binary(_ op: BinaryOp, _ other: Value, selfOnLeft: Bool) throws -> Value?
    /// `-self`; nil if unsupported.
    func negated() throws -> Value?
}

extension Interpreter {
    func binaryOperation(_ op: BinaryOp, _ a: Value, _ b: Value, at loc: SourceLocation) throws -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)): return try intOperation(op, x, y, at: loc)
        case (.int, .real) where op.isComparison, (.real, .int) where op.isComparison:
            return .bool(op.holds(Interpreter.compareNumbers(a, b)))
        case (.int, .real), (.real, .int), (.real, .real): return try realOperation(op, a.number!, b.number!, at: loc)
        default: break
        }
        if case .object(let o as OperandObject) = a {
            do { if let v = try o.binary(op, b, selfOnLeft: true) { return v } } catch { throw wrap(error, loc) }
        }
        if case .object(let o as OperandObject) = b {
            do { if let v = try o.binary(op, a, selfOnLeft: false) { return v } } catch { throw wrap(error, loc) }
        }
        switch op {
        case .equal: return .bool(Interpreter.equal(a, b))
        case .notEqual: return .bool(!Interpreter.equal(a, b))
        default: break
        }
        switch (op, a, b) {
        case (.add, .string(let x), .string(let y)):
            try checkLimit(at: loc) { try Limits.checkString(x.utf8.count + y.utf8.count) }
            return .string(x + y)
        case (.add, .list(let x), .list(let y)):
            try checkLimit(at: loc) { try Limits.checkList(x.items.count + y.items.count) }
            return .list(ListObject(x.items + y.items))
        case (.multiply, .string(let s), .int(let n)), (.multiply, .int(let n), .string(let s)):
            guard n >= 0 else { throw error("string repeat count \(n) is negative", at: loc) }
            if s.isEmpty { return .string("") }
            let (bytes, overflow) = s.utf8.count.multipliedReportingOverflow(by: n)
            try checkLimit(at: loc) { try Limits.checkString(overflow ? Int.max : bytes) }
            return .string(String(repeating: s, count: n))
        case (.less, .string(let x), .string(let y)): return .bool(x < y)
        case (.lessEqual, .string(let x), .string(let y)): return .bool(x <= y)
        case (.greater, .string(let x), .string(let y)): return .bool(x > y)
        case (.greaterEqual, .string(let x), .string(let y)): return .bool(x >= y)
        default:
            var hint = ""
            if op == .add, case .string = a { hint = "; convert with str() or use \"\\(...)\" interpolation" }
            if op == .add, case .string = b { hint = "; convert with str() or use \"\\(...)\" interpolation" }
            throw error("cannot apply '\(op.rawValue)' to \(a.typeName) and \(b.typeName)\(hint)", at: loc)
        }
    }

    /// Runs a size check (`Limits`, `RangeValue.checked`) and reports its failure at `loc`.
    @discardableResult
    func checkLimit<T>(at loc: SourceLocation, _ check: () throws -> T) throws -> T {
        do { return try check() } catch { throw wrap(error, loc) }
    }

    func wrap(_ e: Error, _ loc: SourceLocation) -> Error {
        if e is RuntimeError { return e }
        return error("\(e)", at: loc)
    }

    @inline(__always)
    func intOperation(_ op: BinaryOp, _ x: Int, _ y: Int, at loc: SourceLocation) throws -> Value {
        switch op {
        case .add:
            let (r, o) = x.addingReportingOverflow(y)
            if o { throw error("integer overflow in \(x) + \(y)", at: loc) }
            return .int(r)
        case .subtract:
            let (r, o) = x.subtractingReportingOverflow(y)
            if o { throw error("integer overflow in \(x) - \(y)", at: loc) }
            return .int(r)
        case .multiply:
            let (r, o) = x.multipliedReportingOverflow(by: y)
            if o { throw error("integer overflow in \(x) * \(y)", at: loc) }
            return .int(r)
        case .divide:
            if y == 0 { throw error("division by zero", at: loc) }
            return .real(Double(x) / Double(y))
        case .modulo:
            if y == 0 { throw error("modulo by zero", at: loc) }
            if y == -1 { return .int(0) }
            let r = x % y
            return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
        case .equal: return .bool(x == y)
        case .notEqual: return .bool(x != y)
        case .less: return .bool(x < y)
        case .lessEqual: return .bool(x <= y)
        case .greater: return .bool(x > y)
        case .greaterEqual: return .bool(x >= y)
        }
    }

    func realOperation(_ op: BinaryOp, _ x: Double, _ y: Double, at loc: SourceLocation) throws -> Value {
        switch op {
        case .add: return .real(x + y)
        case .subtract: return .real(x - y)
        case .multiply: return .real(x * y)
        case .divide:
            if y == 0 { throw error("division by zero", at: loc) }
            return .real(x / y)
        case .modulo:
            if y == 0 { throw error("modulo by zero", at: loc) }
            let r = fmod(x, y)
            return .real(r != 0 && (r < 0) != (y < 0) ? r + y : r)
        case .equal: return .bool(x == y)
        case .notEqual: return .bool(x != y)
        case .less: return .bool(x < y)
        case .lessEqual: return .bool(x <= y)
        case .greater: return .bool(x > y)
        case .greaterEqual: return .bool(x >= y)
        }
    }

    func unaryOperation(_ op: UnaryOp, _ v: Value, at loc: SourceLocation) throws -> Value {
        switch (op, v) {
        case (.negate, .int(let i)):
            if i == Int.min { throw error("integer overflow in negation", at: loc) }
            return .int(-i)
        case (.negate, .real(let r)): return .real(-r)
        case (.negate, .object(let o as OperandObject)):
            do { if let r = try o.negated() { return r } } catch { throw wrap(error, loc) }
        case (.not, .bool(let b)): return .bool(!b)
        default: break
        }
        throw error("cannot apply '\(op.rawValue)' to \(v.typeName)", at: loc)
    }

    /// The exact order of two numbers (integers or reals): an integer is never rounded to a double,
    /// so 2^53 + 1 > 2^53 as a real. nil when either is NaN (unordered) or not a number.
    /// Comparisons, `==`, `sorted`, `max` and `min` all order numbers by it.
    static func compareNumbers(_ a: Value, _ b: Value) -> ComparisonResult? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame
        case (.int(let x), .real(let y)): return order(x, y)
        case (.real(let x), .int(let y)): return order(y, x)?.reversed
        case (.real(let x), .real(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame
        default: return nil
        }
    }

    /// The exact order of an integer and a real; nil when `r` is NaN.
    private static func order(_ i: Int, _ r: Double) -> ComparisonResult? {
        guard !r.isNaN else { return nil }
        if r >= 0x1p63 { return .orderedAscending }
        if r < -0x1p63 { return .orderedDescending }
        let f = r.rounded(.down), n = Int(f)  // |f| < 2^63 or f = −2^63: exact
        if i != n { return i < n ? .orderedAscending : .orderedDescending }
        return r > f ? .orderedAscending : .orderedSame
    }

    /// Structural equality: numbers by exact value (3 == 3.0, 2^53 + 1 != 2^53 as a real), lists and records element-wise,
    /// domain objects and functions by identity. Cyclic lists and records compare without
    /// recursing forever: a pair of containers met again while it is still being compared
    /// is taken as equal (so two lists built the same way around a cycle are equal). A pair found
    /// equal is not compared again, so shared structure (`xs = [xs, xs]` sixty times) takes time
    /// linear in the distinct pairs, not in the paths to them. Both are sound because any unequal
    /// pair makes the whole comparison false at once.
    public static func equal(_ a: Value, _ b: Value) -> Bool {
        var seen = ContainerPairs()
        return equal(a, b, &seen)
    }

    /// The container pairs being compared (the path from the root) and those found equal.
    struct ContainerPairs {
        var open: Set<ContainerPair> = []
        var equal: Set<ContainerPair> = []

        /// Starts comparing `pair`; false when it is open or already found equal (take it as equal).
        mutating func begin(_ pair: ContainerPair) -> Bool {
            !equal.contains(pair) && open.insert(pair).inserted
        }

        mutating func end(_ pair: ContainerPair, equal result: Bool) {
            open.remove(pair)
            if result { equal.insert(pair) }
        }
    }

    /// Two containers being compared, by identity.
    struct ContainerPair: Hashable {
        let left: ObjectIdentifier
        let right: ObjectIdentifier
    }

    private static func equal(_ a: Value, _ b: Value, _ seen: inout ContainerPairs) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.int, .real), (.real, .int): return compareNumbers(a, b) == .orderedSame
        case (.real(let x), .real(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)):
            if x === y { return true }
            guard x.items.count == y.items.count else { return false }
            let pair = ContainerPair(left: ObjectIdentifier(x), right: ObjectIdentifier(y))
            guard seen.begin(pair) else { return true }
            let result = zip(x.items, y.items).allSatisfy { equal($0, $1, &seen) }
            seen.end(pair, equal: result)
            return result
        case (.record(let x), .record(let y)):
            if x === y { return true }
            guard Set(x.keys) == Set(y.keys) else { return false }
            let pair = ContainerPair(left: ObjectIdentifier(x), right: ObjectIdentifier(y))
            guard seen.begin(pair) else { return true }
            let result = x.keys.allSatisfy { equal(x[$0]!, y[$0]!, &seen) }
            seen.end(pair, equal: result)
            return result
        case (.range(let x), .range(let y)): return x.lower == y.lower && x.upper == y.upper && x.step == y.step
        case (.closure(let x), .closure(let y)): return x === y
        case (.builtin(let x), .builtin(let y)): return x === y
        case (.object(let x), .object(let y)): return x === y
        default: return false
        }
    }
}

extension ComparisonResult {
    var reversed: ComparisonResult {
        switch self {
        case .orderedAscending: return .orderedDescending
        case .orderedDescending: return .orderedAscending
        case .orderedSame: return .orderedSame
        }
    }
}

extension BinaryOp {
    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: return true
        default: return false
        }
    }

    /// Whether the comparison holds for an order (nil: unordered, as NaN; only != holds).
    func holds(_ order: ComparisonResult?) -> Bool {
        switch self {
        case .equal: return order == .orderedSame
        case .notEqual: return order != .orderedSame
        case .less: return order == .orderedAscending
        case .lessEqual: return order == .orderedAscending || order == .orderedSame
        case .greater: return order == .orderedDescending
        case .greaterEqual: return order == .orderedDescending || order == .orderedSame
        default: return false
        }
    }
}
