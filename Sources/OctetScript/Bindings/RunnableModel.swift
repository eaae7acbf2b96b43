import OctetGraph
import OctetTensor

/// A script value that maps an input batch to output logits: float Model, QuantizedModel,
/// deployed Program. Evaluation helpers (`accuracy`, `agreement`, `sqnr` of models) use it.
protocol RunnableModel: DomainObject {
    /// Short description for progress labels and tables: `float`, `int8 (diffs)`, `DPU emulator`.
    var runLabel: String { get }
    /// Runs one batch `[N, ...]` and returns the outputs `names` by name `[N, ...]`.
    func forward(_ x: Tensor, outputs names: [String]) throws -> [String: Tensor]
    /// The graph it runs (its outputs, in order, and how each joins over chunks).
    var graph: Graph { get }
    /// The dtype its input takes: float32, or another for a float model's integer input.
    var inputDType: DType { get }
}

extension RunnableModel {
    var inputDType: DType { .float32 }
    /// Output names in graph order.
    var outputNames: [String] { graph.outputs.map(\.name) }

    /// Runs one batch and returns the output `name` (nil: the first).
    /// - Throws: `BindingError` naming the outputs when `name` is not one of them.
    func forward(_ x: Tensor, output name: String? = nil) throws -> Tensor {
        let wanted = name ?? outputNames[0]
        guard outputNames.contains(wanted) else {
            throw BindingError.named("output", "no output named '\(wanted)'; outputs: " + outputNames.joined(separator: ", "))
        }
        return try forward(x, outputs: [wanted])[wanted]!
    }

    /// Outputs for every sample of `data`, run in chunks of `chunk` samples with progress and
    /// cancellation between chunks, joined as `OutputBatching.join` joins them (along axis 0; a
    /// constant once). `output` names the output (nil: the first).
    /// NaN or ±∞ inputs run (as the CLI runs them) with one warning line in the output.
    func outputs(_ data: DataInput, _ interp: Interpreter, chunk: Int = 100, output: String? = nil) throws -> Tensor {
        let n = data.count
        let steps = (n + chunk - 1) / chunk
        var warned = false
        func batch(_ range: Range<Int>) throws -> Tensor {
            let x = try data.samples(range, as: inputDType)
            if !warned, let bad = x.firstNonFinite() {
                warned = true
                interp.warn("\(data.name) has NaN/Inf values (first in sample \(range.lowerBound + bad.sample))")
            }
            return try forward(x, output: output)
        }
        if steps == 1 { return try batch(0..<n) }
        return try interp.withProgress("run \(runLabel)", total: steps) { step in
            var parts: [Tensor] = []
            for s in 0..<steps {
                let lo = s * chunk
                parts.append(try batch(lo..<min(n, lo + chunk)))
                try step()
            }
            return try OutputBatching.join(output ?? outputNames[0], parts, in: graph, samples: n, batchSize: chunk)
        }
    }
}

/// Feeds and output selection shared by the `run` methods.
enum RunnableFeeds {
    /// `[input: x]` for a graph with one input. - Throws: `BindingError` for several inputs.
    static func single(_ g: Graph, _ x: Tensor) throws -> [String: Tensor] {
        let inputs = g.inputs.filter { g.initializers[$0.name] == nil }
        guard inputs.count == 1 else { throw BindingError.message("model has \(inputs.count) inputs; run supports single-input models") }
        return [inputs[0].name: x]
    }

    /// The `output` named argument: nil or an output name.
    static func outputName(_ a: Arguments) throws -> String? {
        switch a["output"] {
        case .null: return nil
        case .string(let s): return s
        default: throw BindingError.named("output", "output must be an output name (text)")
        }
    }
}

/// Model-level evaluation used by `accuracy`, `agreement` and the metrics on models.
enum Evaluation {
    /// The runnable in argument `i`, or nil when it is not a model-like value.
    static func runnable(_ a: Arguments, _ i: Int) -> RunnableModel? {
        if case .object(let o as RunnableModel) = a[i] { return o }
        return nil
    }

    /// Top-k accuracy (0–1) of `model` on labelled data; ties go to the lower class index (`Accuracy.topK`).
    static func accuracy(_ model: RunnableModel, _ a: Arguments, _ interp: Interpreter) throws -> Value {
        let data = try DataInput.from(a, 1, interp)
        guard let labels = data.labels else {
            throw a.fail(1, "\(data.name) has no labels (accuracy needs a labelled dataset)")
        }
        let k = try a.int("top_k")
        guard k >= 1 else { throw BindingError.named("top_k", "top_k must be at least 1") }
        let logits = try model.outputs(data, interp)
        guard logits.rank == 2 else {
            throw BindingError.message("accuracy needs logits [N, classes]; \(model.runLabel) gives \(logits.shape)")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= logits.shape[1] }) {
            throw a.fail(1, "label \(bad) is not a class index in 0..<\(logits.shape[1])")
        }
        return .real(try Accuracy.topK(logits: logits, labels: labels, k: k))
    }

    /// The two tensors a metric compares: tensors/data directly, or, when argument 0 and 1 are
    /// models, their outputs on the data in argument 2.
    static func pair(_ a: Arguments, _ interp: Interpreter) throws -> (Tensor, Tensor) {
        if let m1 = runnable(a, 0) {
            guard let m2 = runnable(a, 1) else { throw a.typeError(1, "a model (like argument 1)") }
            guard a.count > 2, !isNull(a[2]) else { throw a.fail(1, "comparing two models needs data as argument 3") }
            let data = try DataInput.from(a, 2, interp)
            return (try m1.outputs(data, interp), try m2.outputs(data, interp))
        }
        if a.count > 2, !isNull(a[2]) { throw a.fail(2, "argument 3 (data) applies only when comparing two models") }
        return (try DataInput.from(a, 0, interp).all(), try DataInput.from(a, 1, interp).all())
    }

    static func isNull(_ v: Value) -> Bool { if case .null = v { return true }; return false }
}
