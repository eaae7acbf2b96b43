import Foundation
import OctetTensor

/// Tensor builtins: construction, shape manipulation, reductions and `.npy` I/O.
enum TensorBindings {
    static let axis = ParameterSpec("axis", .null)

    static let table = BindingTable(domain: "tensor", [
        Builtin("tensor", ["data"], named: [ParameterSpec("dtype", .string("float32"))],
                doc: "A tensor from a number or nested list of numbers; dtype float32, int8, uint8, int32 or int64 (integers exact; reals truncated toward zero as astype does; values out of the dtype's range are errors).") { a, _ in
            let d = try dtype(a)
            // Integers stay exact on the way to an integer dtype (float32 holds them only up to 2^24).
            let t = try (d != .float32 ? TensorValue.coerceIntegers(a[0]) : nil) ?? a.tensor(0)
            return .object(TensorValue(try converted(t, to: d)))
        },
        Builtin("zeros", ["shape"], named: [ParameterSpec("dtype", .string("float32"))], doc: "A tensor of zeros with `shape`.") { a, _ in
            .object(TensorValue(Tensor(zeros: try a.shape(0), dtype: try dtype(a))))
        },
        Builtin("ones", ["shape"], doc: "A float32 tensor of ones with `shape`.") { a, _ in
            let s = try a.shape(0)
            return .object(TensorValue(Tensor(shape: s, floats: [Float](repeating: 1, count: Tensor.elementCount(s)))))
        },
        Builtin("randn", ["shape"], named: [ParameterSpec("seed", .null)],
                doc: "Standard-normal float32 samples (Box–Muller over xoshiro256**); `seed` uses a private generator, else the global one set by seed(n).") { a, interp in
            let s = try a.shape(0)
            var own = try a.optionalInt("seed").map { RandomGenerator(seed: UInt64(bitPattern: Int64($0))) }
            let n = Tensor.elementCount(s)
            var values = [Float](repeating: 0, count: n)
            for i in 0..<n { values[i] = Float(own != nil ? own!.normal() : interp.rng.normal()) }
            return .object(TensorValue(Tensor(shape: s, floats: values)))
        },
        Builtin("arange", [ParameterSpec("start"), ParameterSpec("end", .null), ParameterSpec("step", .int(1))],
                doc: "Evenly spaced values in [start, end) like NumPy arange: int64 when all arguments are integers, else float32.") { a, _ in
            try arange(a)
        },
        Builtin("reshape", ["tensor", "shape"], doc: "Same elements with a new shape (one dimension may be -1).") { a, _ in
            .object(TensorValue(try reshape(try a.tensor(0), a, 1)))
        },
        Builtin("transpose", [ParameterSpec("tensor"), ParameterSpec("perm", .null)],
                doc: "Permutes axes; without `perm` reverses them.") { a, _ in
            .object(TensorValue(try TensorMath.transpose(try a.tensor(0), try perm(a, 1))))
        },
        Builtin("shape", ["tensor"], doc: "The tensor's shape as a list of integers.") { a, _ in
            .list(ListObject(try a.tensor(0).shape.map { .int($0) }))
        },
        Builtin("dtype", ["tensor"], doc: "The tensor's element type name.") { a, _ in .string(try a.tensor(0).dtype.rawValue) },
        Builtin("sum", ["values"], named: [axis], doc: "Sum of all elements, or along `axis` (a tensor). Lists of numbers and ranges work too.") { a, _ in
            if case .range(let r) = a[0], case .null = a[1] {  // n · (first + last) / 2, exact
                guard r.count > 0 else { return .int(0) }
                let total = Int128(r.count) * (Int128(r.element(0)) + Int128(r.element(r.count - 1))) / 2
                guard let exact = Int(exactly: total) else { throw BindingError.message("integer overflow") }
                return .int(exact)
            }
            if case .list(let l) = a[0], l.items.allSatisfy({ if case .int = $0 { return true }; return false }) {
                var total = 0
                for case .int(let i) in l.items {
                    let (s, o) = total.addingReportingOverflow(i)
                    if o { throw BindingError.message("integer overflow") }
                    total = s
                }
                return .int(total)
            }
            if let xs = numbers(a[0]) { return .real(xs.reduce(0, +)) }  // reals are 64-bit
            return try reduce(a, .sum)
        },
        Builtin("mean", ["values"], named: [axis], doc: "Mean of all elements, or along `axis`.") { a, _ in
            if let xs = numbers(a[0]) { return .real(mean(xs)) }
            return try reduce(a, .mean)
        },
        Builtin("argmax", ["values"], named: [axis], doc: "Index of the largest element (first on ties), or indices along `axis`.") { a, _ in
            try reduce(a, .argmax)
        },
        Builtin("read_npy", ["path"], doc: "Reads a NumPy .npy file (float32, int8, uint8, int32, int64; C order).") { a, interp in
            .object(TensorValue(try NPY.read(path: try DataInput.existingPath(try a.string(0), a, 0, interp))))
        },
        Builtin("write_npy", ["tensor", "path"], doc: "Writes a tensor as .npy, atomically (temporary file then rename); missing folders are created.") { a, interp in
            try NPY.write(try a.tensor(0), path: try DataInput.outputPath(a, 1, interp))
            return .null
        },
    ])

    static func dtype(_ a: Arguments) throws -> DType {
        let name = try a.string("dtype")
        guard let d = DType(rawValue: name) else {
            throw BindingError.named("dtype", "unknown dtype '\(name)'; accepted: " + DType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return d
    }

    /// `t` converted to `target`, truncating toward zero for integer dtypes. Throws
    /// `BindingError.message` naming the first value the integer dtype cannot hold (out of
    /// range, nan, infinite), where `Tensor.converted` would wrap around.
    static func converted(_ t: Tensor, to target: DType) throws -> Tensor {
        guard let (lo, hi) = integerRange(target) else { return t.converted(to: target) }
        func refuse(_ value: String) -> BindingError {
            .message("cannot convert \(value) to \(target) (range \(lo)...\(hi))")
        }
        if case .float32(let xs) = t.storage {
            // Double(hi) + 1 is exact (2^63 for int64, where Double(hi) already rounds up).
            for x in xs {
                let v = Double(x).rounded(.towardZero)
                guard v >= Double(lo), v < Double(hi) + 1 else { throw refuse(x.description) }
            }
        } else {
            for v in t.asInt64Array() where v < lo || v > hi { throw refuse(String(v)) }
        }
        return t.converted(to: target)
    }

    /// The values an integer dtype holds; nil for float32.
    static func integerRange(_ d: DType) -> (Int64, Int64)? {
        switch d {
        case .float32: return nil
        case .int8: return (Int64(Int8.min), Int64(Int8.max))
        case .uint8: return (0, Int64(UInt8.max))
        case .int32: return (Int64(Int32.min), Int64(Int32.max))
        case .int64: return (Int64.min, Int64.max)
        }
    }

    /// The numbers of a flat list of numbers (as Doubles), else nil.
    static func numbers(_ v: Value) -> [Double]? {
        guard case .list(let l) = v else { return nil }
        var out: [Double] = []
        for item in l.items { guard let x = item.number else { return nil }; out.append(x) }
        return out
    }

    /// Mean in 64 bits (nan for no values).
    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }

    static func reduce(_ a: Arguments, _ kind: TensorMath.Reduction) throws -> Value {
        let t = try a.tensor(0)
        let axis = try a.optionalInt("axis")
        if kind == .mean && axis == nil {  // a real: the mean in Double, not rounded to float32
            return .real(mean(t.dtype == .float32 ? t.floats.map(Double.init) : t.asInt64Array().map(Double.init)))
        }
        if kind == .sum && axis == nil && t.dtype == .float32 {  // a real: the Double sum (3e38 + 3e38 is not ∞)
            return .real(t.floats.reduce(0.0) { $0 + Double($1) })
        }
        return TensorValue.wrap(try TensorMath.reduce(t, kind, axis: axis))
    }

    static func reshape(_ t: Tensor, _ a: Arguments, _ i: Int) throws -> Tensor {
        guard let dims = try? a.list(i).map({ v -> Int in
            guard let d = Arguments.asInt(v), d >= -1 else { throw BindingError.message("") }
            return d
        }) else { throw a.fail(i, "shape must be a list of integers (one may be -1)") }
        var shape = dims
        if let k = dims.firstIndex(of: -1) {
            let known = dims.filter { $0 != -1 }.reduce(1, *)
            guard dims.filter({ $0 == -1 }).count == 1, known > 0, t.count % known == 0 else {
                throw a.fail(i, "cannot infer -1 in \(dims) for \(t.count) elements")
            }
            shape[k] = t.count / known
        }
        do { try Limits.checkTensor(shape) } catch { throw a.fail(i, "shape \(shape) is too large") }
        return try t.reshaped(shape)
    }

    static func perm(_ a: Arguments, _ i: Int) throws -> [Int]? {
        if case .null = a[i] { return nil }
        return try a.list(i).map { v in
            guard let d = Arguments.asInt(v) else { throw a.fail(i, "permutation must be a list of integers") }
            return d
        }
    }

    /// Most elements `arange` creates.
    static let maxArange = 1 << 28

    /// `arange(end)` / `arange(start, end, step)`: int64 from integer arguments (counted
    /// exactly, like a range), else float32. Errors: a zero or non-finite step, non-finite
    /// bounds, more than `maxArange` elements.
    static func arange(_ a: Arguments) throws -> Value {
        let allInts = [a[0], a[1], a[2]].allSatisfy {
            switch $0 { case .int, .null: return true; default: return false }
        }
        if allInts {
            var lo = 0, hi = try a.int(0)
            if case .null = a[1] {} else { lo = hi; hi = try a.int(1) }
            let step = try a.int(2)
            guard step != 0 else { throw a.fail(2, "step must be a non-zero number") }
            let r = RangeValue(lower: lo, upper: hi, step: step)
            guard r.exactCount <= UInt(maxArange) else { throw BindingError.message("arange would create \(r.exactCount) elements") }
            return .object(TensorValue(Tensor(shape: [r.count], int64s: (0..<r.count).map { Int64(r.element($0)) })))
        }
        var lo = 0.0, hi = try a.double(0)
        if case .null = a[1] {} else { lo = hi; hi = try a.double(1) }
        let step = try a.double(2)
        guard step != 0, step.isFinite else { throw a.fail(2, "step must be a non-zero number") }
        guard lo.isFinite, hi.isFinite else { throw BindingError.message("arange bounds must be finite numbers") }
        let exact = ((hi - lo) / step).rounded(.up)
        guard exact <= Double(maxArange) else {
            throw BindingError.message("arange would create \(exact < 1e18 ? String(Int(exact)) : Format.real(exact)) elements")
        }
        let n = max(0, Int(exact))
        return .object(TensorValue(Tensor(shape: [n], floats: (0..<n).map { Float(lo + Double($0) * step) })))
    }
}
