import Foundation
import OctetTensor

/// Error metrics between a reference and a test tensor (same shape).
enum MetricsBindings {
    /// Reference and test values: tensors, data (Dataset or file path), or two models run on
    /// the data in argument 3 (`Evaluation.pair`).
    static func pair(_ a: Arguments, _ interp: Interpreter) throws -> ([Float], [Float]) {
        let (r, t) = try Evaluation.pair(a, interp)
        guard r.shape == t.shape else {
            throw BindingError.argument(1, "shapes differ: reference \(r.shape), test \(t.shape)")
        }
        return (r.asFloatArray(), t.asFloatArray())
    }

    /// Optional third argument: data for comparing two models.
    static let pairParams = [ParameterSpec("ref"), ParameterSpec("test"), ParameterSpec("data", .null)]

    static let table = BindingTable(domain: "metrics", [
        Builtin("sqnr", pairParams,
                doc: "Signal-to-quantization-noise ratio in dB: 10·log10(Σref² / Σ(ref−test)²); inf when identical. Arguments are tensors, Datasets or data file paths, or two models compared on `data`.") { a, interp in
            let (r, t) = try pair(a, interp)
            var signal = 0.0, noise = 0.0
            for i in 0..<r.count {
                signal += Double(r[i]) * Double(r[i])
                let d = Double(r[i]) - Double(t[i])
                noise += d * d
            }
            if noise == 0 { return .real(.infinity) }
            return .real(10 * log10(signal / noise))
        },
        Builtin("cosine", pairParams, doc: "Cosine similarity Σab / (‖a‖·‖b‖); nan when either is all zeros.") { a, interp in
            let (x, y) = try pair(a, interp)
            var dot = 0.0, nx = 0.0, ny = 0.0
            for i in 0..<x.count {
                dot += Double(x[i]) * Double(y[i]); nx += Double(x[i]) * Double(x[i]); ny += Double(y[i]) * Double(y[i])
            }
            return .real(dot / (nx.squareRoot() * ny.squareRoot()))
        },
        Builtin("max_abs_diff", pairParams, doc: "Largest |a − b| over all elements; nan when any difference is nan (a nan in either, or inf − inf).") { a, interp in
            let (x, y) = try pair(a, interp)
            var m = 0.0
            for i in 0..<x.count {
                let d = abs(Double(x[i]) - Double(y[i]))
                if d.isNaN { return .real(.nan) }
                m = Swift.max(m, d)
            }
            return .real(m)
        },
        Builtin("mse", pairParams, doc: "Mean squared error Σ(ref−test)² / n.") { a, interp in
            let (r, t) = try pair(a, interp)
            guard !r.isEmpty else { throw BindingError.message("mse of empty tensors") }
            var s = 0.0
            for i in 0..<r.count { let d = Double(r[i]) - Double(t[i]); s += d * d }
            return .real(s / Double(r.count))
        },
        Builtin("accuracy", ["model", "data"], named: [ParameterSpec("top_k", .int(1))],
                doc: "Top-k accuracy (0–1). With a Model, QuantizedModel or Program and labelled data (Dataset, path, or tensor): runs the model. With logits [N, C] and labels (tensor or list of N class indices). Either way, tied scores rank the lower class index first.") { a, interp in
            if let m = Evaluation.runnable(a, 0) { return try Evaluation.accuracy(m, a, interp) }
            return try accuracy(a)
        },
    ])

    /// Top-k accuracy of logits [N, C] against N class indices (`Accuracy.topK`: ties rank the
    /// lower class first; a NaN logit ranks above every number, a NaN label score is a miss).
    static func accuracy(_ a: Arguments) throws -> Value {
        let logits = try a.tensor(0)
        guard logits.rank == 2, logits.shape[0] > 0 else {
            throw BindingError.argument(0, "logits must have shape [N, C] with N > 0, got \(logits.shape)")
        }
        let n = logits.shape[0], c = logits.shape[1]
        let classes: [Int]
        do {
            guard let l = try ClassLabels.parse(a[1]) else { throw a.typeError(1, "a list or tensor of class indices") }
            classes = l
        } catch BindingError.message(let m) { throw BindingError.argument(1, m) }
        guard classes.count == n else { throw BindingError.argument(1, "expected \(n) labels, got \(classes.count)") }
        let k = try a.int("top_k")
        guard k >= 1 else { throw BindingError.named("top_k", "top_k must be at least 1") }
        if let row = classes.firstIndex(where: { $0 < 0 || $0 >= c }) {
            throw BindingError.argument(1, "label \(classes[row]) at row \(row) is not a class index in 0..<\(c)")
        }
        return .real(try Accuracy.topK(logits: logits, labels: classes, k: k))
    }
}
