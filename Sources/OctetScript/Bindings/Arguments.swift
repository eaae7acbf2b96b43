import OctetTensor

/// The arguments a builtin receives, already checked against its parameters: positional
/// values (defaults filled in) and every named parameter (defaults filled in).
///
/// Accessors convert and throw `BindingError` naming the argument, so the interpreter
/// can point the caret at it: `sum: argument 1 must be a tensor, got string`.
public struct Arguments {
    public let callee: String
    public var values: [Value]
    public var named: [String: Value]
    let callLocation: SourceLocation
    let locations: [SourceLocation]
    let namedLocations: [String: SourceLocation]
    /// 1 for methods (the receiver is `values[0]` and is not counted in messages).
    let firstShown: Int

    public var count: Int { values.count }

    public subscript(_ i: Int) -> Value { i < values.count ? values[i] : .null }
    public subscript(_ name: String) -> Value { named[name] ?? .null }

    func location(of e: BindingError) -> SourceLocation {
        switch e {
        case .argument(let i, _):
            // `locations` has one entry per value, the receiver's (the call) included.
            return i >= 0 && i < locations.count ? locations[i] : callLocation
        case .named(let n, _): return namedLocations[n] ?? callLocation
        case .message: return callLocation
        }
    }

    func label(_ i: Int) -> String { i < firstShown ? "receiver" : "argument \(i - firstShown + 1)" }

    public func fail(_ i: Int, _ message: String) -> BindingError { .argument(i, message) }
    public func fail(_ n: String, _ message: String) -> BindingError { .named(n, message) }

    func typeError(_ i: Int, _ expected: String) -> BindingError {
        .argument(i, "\(label(i)) must be \(expected), got \(self[i].typeName)")
    }

    func namedTypeError(_ n: String, _ expected: String) -> BindingError {
        .named(n, "argument '\(n)' must be \(expected), got \(self[n].typeName)")
    }

    public func int(_ i: Int) throws -> Int {
        guard let v = Arguments.asInt(self[i]) else { throw typeError(i, "an integer") }
        return v
    }

    public func double(_ i: Int) throws -> Double {
        guard let v = self[i].number else { throw typeError(i, "a number") }
        return v
    }

    public func string(_ i: Int) throws -> String {
        guard case .string(let s) = self[i] else { throw typeError(i, "a string") }
        return s
    }

    public func bool(_ i: Int) throws -> Bool {
        guard case .bool(let b) = self[i] else { throw typeError(i, "a bool") }
        return b
    }

    public func list(_ i: Int) throws -> [Value] {
        switch self[i] {
        case .list(let l): return l.items
        case .range(let r):
            do { return try r.values() } catch { throw fail(i, "\(error)") }
        default: throw typeError(i, "a list")
        }
    }

    public func callable(_ i: Int) throws -> Value {
        guard self[i].isCallable else { throw typeError(i, "a function") }
        return self[i]
    }

    public func int(_ n: String) throws -> Int {
        guard let v = Arguments.asInt(self[n]) else { throw namedTypeError(n, "an integer") }
        return v
    }

    /// Named integer within `range`; outside it the error points at the argument.
    public func int(_ n: String, in range: ClosedRange<Int>) throws -> Int {
        let v = try int(n)
        guard range.contains(v) else { throw fail(n, "\(n) must be in \(range.lowerBound)...\(range.upperBound), got \(v)") }
        return v
    }

    /// Named integer that may be nil.
    public func optionalInt(_ n: String) throws -> Int? {
        if case .null = self[n] { return nil }
        return try int(n)
    }

    public func double(_ n: String) throws -> Double {
        guard let v = self[n].number else { throw namedTypeError(n, "a number") }
        return v
    }

    public func string(_ n: String) throws -> String {
        guard case .string(let s) = self[n] else { throw namedTypeError(n, "a string") }
        return s
    }

    public func bool(_ n: String) throws -> Bool {
        guard case .bool(let b) = self[n] else { throw namedTypeError(n, "a bool") }
        return b
    }

    /// A tensor argument: a Tensor object, or a number / (nested) list of numbers.
    public func tensor(_ i: Int) throws -> Tensor {
        if let t = try TensorValue.coerce(self[i]) { return t }
        throw typeError(i, "a tensor or a nested list of numbers")
    }

    /// A shape: a list of non-negative integers (or a single integer).
    public func shape(_ i: Int) throws -> [Int] {
        var dims: [Int] = []
        if let n = Arguments.asInt(self[i]), n >= 0 {
            dims = [n]
        } else {
            guard let items = try? list(i) else { throw typeError(i, "a shape (list of integers)") }
            for v in items {
                guard let d = Arguments.asInt(v), d >= 0 else { throw fail(i, "\(label(i)) must be a list of non-negative integers") }
                dims.append(d)
            }
        }
        do { try Limits.checkTensor(dims) } catch { throw fail(i, "shape \(dims) is too large") }
        return dims
    }

    static func asInt(_ v: Value) -> Int? {
        switch v {
        case .int(let i): return i
        case .real(let r) where r == r.rounded() && abs(r) < 9e15: return Int(r)
        default: return nil
        }
    }
}
