import Foundation

/// Numeric builtins of the core table: min, max, abs, sqrt, exp, log, pow, floor, ceil, round.
enum CoreMath {
    static func unary(_ name: String, _ doc: String, _ f: @escaping (Double) -> Double) -> Builtin {
        Builtin(name, ["x"], doc: doc) { a, _ in .real(f(try a.double(0))) }
    }

    /// min/max over numbers given as arguments or one list; tensors reduce all elements.
    static func extremum(_ name: String, _ pick: ComparisonResult) -> Builtin {
        Builtin(name, [String](), variadic: true,
                doc: "The \(name)imum of the numbers given, of one list of numbers, or of all elements of a tensor.") { a, _ in
            var items = a.values
            if items.count == 1 {
                if case .object(let t as TensorValue) = items[0] {  // as t.max() / t.min(): integers exact
                    guard t.tensor.count > 0 else { throw a.fail(0, "\(name) of an empty tensor") }
                    return TensorValue.wrap(try TensorMath.reduce(t.tensor, name == "max" ? .max : .min, axis: nil))
                }
                switch items[0] {
                case .list, .range: items = try a.list(0)
                default: break
                }
            }
            guard var best = items.first else { throw BindingError.message("no numbers given") }
            for (i, v) in items.enumerated() {
                guard let x = v.number, best.number != nil else {
                    throw BindingError.message("item \(i + 1) is \(v.typeName), not a number")
                }
                if x.isNaN { return v }  // NaN propagates whatever its position, as in NumPy
                if Interpreter.compareNumbers(v, best) == pick { best = v }  // exact: 2^53 + 1 > 2^53 as a real
            }
            return best
        }
    }

    static let builtins: [Builtin] = [
        extremum("min", .orderedAscending),
        extremum("max", .orderedDescending),
        Builtin("abs", ["x"], doc: "Absolute value (integers stay integers).") { a, _ in
            if case .int(let i) = a[0] {
                guard i != Int.min else { throw a.fail(0, "integer overflow") }
                return .int(Swift.abs(i))
            }
            return .real(Swift.abs(try a.double(0)))
        },
        unary("sqrt", "Square root.") { $0.squareRoot() },
        unary("exp", "e raised to x.") { Foundation.exp($0) },
        unary("log", "Natural logarithm.") { Foundation.log($0) },
        unary("log10", "Base-10 logarithm.") { Foundation.log10($0) },
        unary("log2", "Base-2 logarithm.") { Foundation.log2($0) },
        Builtin("pow", ["x", "y"], doc: "x raised to y (real).") { a, _ in .real(Foundation.pow(try a.double(0), try a.double(1))) },
        Builtin("floor", ["x"], doc: "Largest integer ≤ x (an integer comes back unchanged).") { a, _ in
            if case .int = a[0] { return a[0] }
            return try toInt(Foundation.floor(try a.double(0)), a)
        },
        Builtin("ceil", ["x"], doc: "Smallest integer ≥ x (an integer comes back unchanged).") { a, _ in
            if case .int = a[0] { return a[0] }
            return try toInt(Foundation.ceil(try a.double(0)), a)
        },
        Builtin("round", [ParameterSpec("x"), ParameterSpec("digits", .null)],
                doc: "Rounds the exact value half away from zero: to an integer, or to `digits` decimals (the nearest real to that decimal; round(0.15, 1) is 0.1, as 0.15 is stored as 0.1499…).") { a, _ in
            let x = try a.double(0)
            if case .null = a[1] {
                if case .int = a[0] { return a[0] }
                return try toInt(x.rounded(.toNearestOrAwayFromZero), a)
            }
            let d = try a.int(1)
            guard (0...15).contains(d) else { throw a.fail(1, "digits must be in 0...15") }
            if case .int(let i) = a[0] { return .real(Double(i)) }
            return .real(x.isFinite ? Double(Format.fixed(x, d))! : x)
        },
        Builtin("fixed", ["x", "digits"], doc: "The number as text with exactly `digits` decimals, its exact value rounded half away from zero as `round` rounds, e.g. fixed(3.14159, 2) is \"3.14\" and fixed(0.125, 2) \"0.13\"; a value that rounds to zero has no sign (fixed(-0.001, 2) is \"0.00\"); an integer keeps all its digits.") { a, _ in
            let d = try a.int(1)
            guard (0...15).contains(d) else { throw a.fail(1, "digits must be in 0...15") }
            if case .int(let i) = a[0] { return .string(String(i) + (d > 0 ? "." + String(repeating: "0", count: d) : "")) }
            return .string(Format.fixed(try a.double(0), d))
        },
    ]

    static func toInt(_ r: Double, _ a: Arguments) throws -> Value {
        guard r >= -0x1p63, r < 0x1p63 else { throw a.fail(0, "\(Format.real(r)) has no integer value") }  // Int64's range; NaN fails
        return .int(Int(r))
    }
}
