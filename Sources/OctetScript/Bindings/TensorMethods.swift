import OctetTensor

extension TensorBindings {
    static func receiver(_ a: Arguments) -> Tensor {
        guard case .object(let t as TensorValue) = a[0] else { preconditionFailure("Tensor method on \(a[0].typeName)") }
        return t.tensor
    }

    static func reduction(_ kind: TensorMath.Reduction, _ doc: String) -> Builtin {
        Builtin(kind.rawValue, ["self"], named: [axis], doc: doc) { a, _ in try reduce(a, kind) }
    }

    /// Methods of Tensor values (`t.sum(axis: 1)`, `t.reshape([2, 3])`).
    static let methods = BindingTable(domain: "Tensor", owner: "Tensor", [
        reduction(.sum, "Sum of all elements, or along `axis`."),
        reduction(.mean, "Mean of all elements, or along `axis`."),
        reduction(.max, "Largest element, or maxima along `axis`."),
        reduction(.min, "Smallest element, or minima along `axis`."),
        reduction(.argmax, "Index of the largest element (first on ties), or along `axis`."),
        reduction(.argmin, "Index of the smallest element (first on ties), or along `axis`."),
        Builtin("reshape", ["self", "shape"], doc: "Same elements with a new shape (one dimension may be -1).") { a, _ in
            .object(TensorValue(try reshape(receiver(a), a, 1)))
        },
        Builtin("transpose", [ParameterSpec("self"), ParameterSpec("perm", .null)], doc: "Permutes axes; without `perm` reverses them.") { a, _ in
            .object(TensorValue(try TensorMath.transpose(receiver(a), try perm(a, 1))))
        },
        Builtin("flatten", ["self"], doc: "The elements as a rank-1 tensor.") { a, _ in
            let t = receiver(a)
            return .object(TensorValue(try t.reshaped([t.count])))
        },
        Builtin("astype", ["self", "dtype"], doc: "Converted copy; float to integer truncates toward zero like ONNX Cast; values the integer dtype cannot hold (out of range, nan) are errors.") { a, _ in
            let name = try a.string(1)
            guard let d = DType(rawValue: name) else { throw a.fail(1, "unknown dtype '\(name)'") }
            return .object(TensorValue(try converted(receiver(a), to: d)))
        },
        Builtin("to_list", ["self"], doc: "The elements as (nested) lists of numbers.") { a, _ in
            let t = receiver(a)
            for d in t.shape { try Limits.checkList(d) }
            return toList(t)
        },
        Builtin("item", ["self"], doc: "The single element of a one-element tensor as a number.") { a, _ in
            let t = receiver(a)
            guard t.count == 1 else { throw BindingError.message("item() needs exactly one element, tensor has \(t.count)") }
            return TensorValue.scalar(t, 0)
        },
    ])

    static func toList(_ t: Tensor) -> Value {
        func level(_ d: Int, _ start: Int) -> Value {
            if d == t.rank { return TensorValue.scalar(t, start) }
            let inner = t.shape[(d + 1)...].reduce(1, *)
            return .list(ListObject((0..<t.shape[d]).map { level(d + 1, start + $0 * inner) }))
        }
        return level(0, 0)
    }
}
