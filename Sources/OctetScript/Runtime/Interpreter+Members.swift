extension Interpreter {
    /// `value.name`: record keys, properties, then methods (bound to the receiver).
    func member(of value: Value, _ name: String, at loc: SourceLocation) throws -> Value {
        switch value {
        case .record(let r):
            if let v = r[name] { return v }
        case .object(let o):
            do { if let v = try o.property(name) { return v } } catch { throw wrap(error, loc) }
            if let m = o.methods[name] { return .method(BoundMethod(receiver: value, builtin: m)) }
        case .range(let r):
            if name == "lower" { return .int(r.lower) }
            if name == "upper" { return .int(r.upper) }
        default: break
        }
        if let table = ValueMethods.table(for: value), let m = table[name] {
            return .method(BoundMethod(receiver: value, builtin: m))
        }
        let candidates = memberNames(of: value)
        if case .record = value {
            throw error("record has no key '\(name)'" + Suggestions.didYouMean(name, among: candidates), at: loc)
        }
        throw error("\(value.typeName) has no member '\(name)'" + Suggestions.didYouMean(name, among: candidates), at: loc)
    }

    /// Member names offered by completion and suggestions.
    public func memberNames(of value: Value) -> [String] {
        var names: [String] = []
        switch value {
        case .record(let r): names += r.keys
        case .object(let o): names += o.memberNames
        case .range: names += ["lower", "upper"]
        default: break
        }
        return names + (ValueMethods.table(for: value)?.names ?? [])
    }

    func setMember(_ object: Value, _ name: String, _ value: Value, at loc: SourceLocation) throws {
        guard case .record(let r) = object else {
            throw error("cannot set member '\(name)' of \(object.typeName)", at: loc)
        }
        r[name] = value
    }

    /// `base[i]` and `base[i, j]`: lists, strings and ranges by integer (negative counts
    /// from the end) or range (a slice); records by string key; indexable objects.
    func index(_ base: Value, _ indices: [Value], at loc: SourceLocation) throws -> Value {
        if case .object(let o as IndexableObject) = base {
            do { return try o.index(indices) } catch { throw wrap(error, loc) }
        }
        guard indices.count == 1 else { throw error("\(base.typeName) takes one index, got \(indices.count)", at: loc) }
        let i = indices[0]
        switch (base, i) {
        case (.list(let l), .range(let r)): return .list(ListObject(try slice(r, count: l.items.count, at: loc).map { l.items[$0] }))
        case (.list(let l), _): return l.items[try position(i, count: l.items.count, base, at: loc)]
        case (.string(let s), .range(let r)):
            let chars = Array(s)
            return .string(String(try slice(r, count: chars.count, at: loc).map { chars[$0] }))
        case (.string(let s), _):
            let chars = Array(s)
            return .string(String(chars[try position(i, count: chars.count, base, at: loc)]))
        case (.range(let r), .range(let s)): return .range(try sliceRange(r, s, at: loc))
        case (.range(let r), _): return .int(r.element(try position(i, count: r.count, base, at: loc)))
        case (.record(let r), .string(let k)):
            guard let v = r[k] else {
                throw error("record has no key \(Format.quote(k))" + Suggestions.didYouMean(k, among: r.keys), at: loc)
            }
            return v
        case (.record, _): throw error("record keys are strings, got \(i.typeName)", at: loc)
        default: throw error("cannot index \(base.typeName)", at: loc)
        }
    }

    func position(_ i: Value, count: Int, _ base: Value, at loc: SourceLocation) throws -> Int {
        guard case .int(let k) = i else { throw error("index must be an integer, got \(i.typeName)", at: loc) }
        let p = k < 0 ? k + count : k
        guard p >= 0 && p < count else {
            throw error("index \(k) out of range for \(base.typeName) of length \(count)", at: loc)
        }
        return p
    }

    /// The positions a slice `r` selects from a sequence of `count` items.
    func slice(_ r: RangeValue, count: Int, at loc: SourceLocation) throws -> [Int] {
        try checkSlice(r, count: count, at: loc)
        return Array(r.lower..<r.upper)
    }

    /// Throws unless `r` is a step-1 range within `0...count`.
    func checkSlice(_ r: RangeValue, count: Int, at loc: SourceLocation) throws {
        guard r.step == 1 else { throw error("slices take step 1, got \(Format.repr(.range(r)))", at: loc) }
        guard r.lower >= 0, r.upper <= count, r.lower <= r.upper else {
            throw error("slice \(Format.repr(.range(r))) out of range for length \(count)", at: loc)
        }
    }

    /// `r[s]`: the elements of range `r` at positions `s` (a step-1 slice), as a range
    /// with `r`'s step (`(0..<10)[2..<5]` is `2..<5`, `range(0, 10, 3)[1..<3]` is `range(3, 9, 3)`).
    /// Errors as `slice`.
    func sliceRange(_ r: RangeValue, _ s: RangeValue, at loc: SourceLocation) throws -> RangeValue {
        let n = r.count
        try checkSlice(s, count: n, at: loc)
        // Positions equal to the count map to `r.upper`: r.element(n) could overflow.
        let lower = s.lower == n ? r.upper : r.element(s.lower)
        let upper = s.upper == n ? r.upper : r.element(s.upper)
        return RangeValue(lower: lower, upper: upper, step: r.step)
    }

    func setIndex(_ base: Value, _ indices: [Value], _ value: Value, at loc: SourceLocation) throws {
        guard indices.count == 1 else { throw error("\(base.typeName) takes one index, got \(indices.count)", at: loc) }
        switch (base, indices[0]) {
        case (.list(let l), let i): l.items[try position(i, count: l.items.count, base, at: loc)] = value
        case (.record(let r), .string(let k)): r[k] = value
        default: throw error("cannot assign to an element of \(base.typeName)", at: loc)
        }
    }
}

/// A domain object supporting `x[i]` (tensors).
public protocol IndexableObject: DomainObject {
    func index(_ indices: [Value]) throws -> Value
}
