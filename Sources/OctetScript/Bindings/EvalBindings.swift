import OctetTensor

/// Model-level comparisons beyond the metrics table: `agreement(a, b, data)`.
enum EvalBindings {
    static let table = BindingTable(domain: "eval", [
        Builtin("agreement", [ParameterSpec("a"), ParameterSpec("b"), ParameterSpec("data", .null)],
                doc: "Fraction (0–1) of samples of `data` on which two models (Model, QuantizedModel, Program) pick the same top-1 class; or of two logit batches [N, C] when `data` is nil.") { a, interp in
            let (x, y) = try Evaluation.pair(a, interp)
            guard x.shape == y.shape else { throw BindingError.argument(1, "shapes differ: \(x.shape) and \(y.shape)") }
            return .real(try Accuracy.top1Agreement(x, y))
        },
    ])
}
