import Foundation

/// Core builtins: printing, conversion, assertions, maths, randomness, time.
enum CoreBindings {
    static let table = BindingTable(domain: "core", [
        Builtin("print", [String](), named: [ParameterSpec("sep", .string(" ")), ParameterSpec("end", .string("\n"))], variadic: true,
                doc: "Prints the values separated by `sep` and followed by `end`. Domain objects print their summary.") { a, interp in
            interp.output(a.values.map(Format.display).joined(separator: try a.string("sep")) + (try a.string("end")))
            return .null
        },
        Builtin("show", ["value"], doc: "Shows a value: its summary on a terminal, its rich rendering (table, plot) in a notebook.") { a, interp in
            try interp.show(a[0]); return .null
        },
        Builtin("len", ["value"], doc: "Number of items of a list, characters of a string, keys of a record, numbers of a range, or elements of a tensor's first axis (an error for a rank-0 tensor).") { a, _ in
            switch a[0] {
            case .list(let l): return .int(l.items.count)
            case .string(let s): return .int(s.count)
            case .record(let r): return .int(r.keys.count)
            case .range(let r): return .int(r.count)
            case .object(let o as LengthObject):
                guard let n = o.length else { throw a.fail(0, "a rank-0 tensor has no first axis to count") }
                return .int(n)
            default: throw a.typeError(0, "a list, string, record, range or tensor")
            }
        },
        Builtin("range", [ParameterSpec("start"), ParameterSpec("end", .null), ParameterSpec("step", .int(1))],
                doc: "`range(n)` is 0..<n; `range(a, b, step)` counts from a up to (not including) b.") { a, _ in
            var lo = 0, hi = try a.int(0)
            if case .null = a[1] {} else { lo = hi; hi = try a.int(1) }
            let step = try a.int(2)
            guard step != 0 else { throw a.fail(2, "step must not be zero") }
            return .range(try RangeValue.checked(lower: lo, upper: hi, step: step))
        },
        Builtin("list", ["iterable"], doc: "A new list of the items of a list, range, string, record (keys) or tensor (first axis).") { a, interp in
            .list(ListObject(try interp.elements(of: a[0], at: a.callLocation)))
        },
        Builtin("str", ["value"], doc: "The value as text, as `print` shows it.") { a, _ in .string(try Format.display(a[0], after: 0)) },
        Builtin("repr", ["value"], doc: "The value as text with strings quoted.") { a, _ in try Limits.checkedString(Format.repr(a[0])) },
        Builtin("int", ["value"], doc: "Integer from a number (truncates toward zero), bool or decimal string.") { a, _ in
            switch a[0] {
            case .int: return a[0]
            case .real(let r):
                guard r >= -0x1p63, r < 0x1p63 else { throw a.fail(0, "cannot convert \(Format.real(r)) to an integer") }  // Int64's range; NaN fails
                return .int(Int(r))
            case .bool(let b): return .int(b ? 1 : 0)
            case .string(let s):
                guard let v = Int(s.trimmingCharacters(in: .whitespaces)) else { throw a.fail(0, "'\(s)' is not an integer") }
                return .int(v)
            default: throw a.typeError(0, "a number, bool or string")
            }
        },
        Builtin("float", ["value"], doc: "Real number from a number or decimal string.") { a, _ in
            if let n = a[0].number { return .real(n) }
            if case .string(let s) = a[0], let v = Double(s.trimmingCharacters(in: .whitespaces)) { return .real(v) }
            throw a.typeError(0, "a number or numeric string")
        },
        Builtin("type", ["value"], doc: "The type name: int, real, string, bool, nil, list, record, range, function, or a domain type such as Tensor.") { a, _ in
            .string(a[0].typeName)
        },
        Builtin("assert", [ParameterSpec("condition"), ParameterSpec("message", .string("assertion failed"))],
                doc: "Stops with a runtime error when `condition` is false.") { a, _ in
            guard try a.bool(0) else { throw BindingError.message(try a.string(1)) }
            return .null
        },
        Builtin("error", ["message"], doc: "Stops with a runtime error carrying `message`.") { a, interp in
            throw interp.error(Format.display(a[0]), at: a.callLocation)  // the message as given, not "error: …"
        },
        Builtin("seed", ["n"], doc: "Seeds the random generator (xoshiro256** via SplitMix64) so runs are deterministic.") { a, interp in
            interp.rng = RandomGenerator(seed: UInt64(bitPattern: Int64(try a.int(0)))); return .null
        },
        Builtin("rand", [String](), doc: "A uniform random real in [0, 1) from the seeded generator.") { _, interp in .real(interp.rng.uniform()) },
        Builtin("time", [ParameterSpec("function", .null)],
                doc: "Seconds since the Unix epoch (real); `time(fn)` calls fn() and returns the seconds it took.") { a, interp in
            guard a[0].isCallable else {
                if case .null = a[0] { return .real(Date().timeIntervalSince1970) }
                throw a.typeError(0, "a function")
            }
            let start = Date()
            _ = try interp.call(a[0], [])
            return .real(Date().timeIntervalSince(start))
        },
        Builtin("help", ["function"], doc: "Prints a builtin's signature and documentation; the builtin may be named by a string (help(\"sum\")).") { a, interp in
            var f = a[0]
            if case .string(let name) = f {
                guard let v = interp.global(name), v.isCallable else { throw a.fail(0, "no function named '\(name)'") }
                f = v
            }
            switch f {
            case .builtin(let b): interp.output(b.signature + "\n  " + b.doc + "\n")
            case .method(let m): interp.output(m.builtin.signature + "\n  " + m.builtin.doc + "\n")
            case .closure(let c): interp.output("fn \(c.decl.displayName)(" + c.decl.parameters.map(\.name).joined(separator: ", ") + ")\n")
            default: throw a.typeError(0, "a function")
            }
            return .null
        },
    ] + CoreMath.builtins)
}

/// A domain object with a length (`len(x)`).
public protocol LengthObject: DomainObject {
    /// nil when the object has no items to count (a rank-0 tensor): `len` is then an error.
    var length: Int? { get }
}
