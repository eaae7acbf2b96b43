import OctetTensor

/// Which graph outputs are computed sample by sample, so that a run cut into chunks of the model's
/// batch size joins each output right. Found when a model is prepared and recorded in the output's
/// declared dims, which every later graph (quantized model, DPU program, QDQ export) keeps:
///
/// - per sample: axis 0 declared symbolic (`[N, …]`). Axis 0 is the batch and each sample's rows
///   depend on that sample alone; the chunks' values are concatenated.
/// - constant: an initializer of the prepared graph with fixed dims, the same for any batch; a
///   chunk's value is it.
/// - whole batch: every dim declared `whole_batch` (`wholeBatchDim`): axis 0 is not the batch (a
///   transposed output), the value reduces or mixes the samples (a reduction or Softmax over axis 0),
///   or it is computed from the batch size (Shape of an input). Only a run of exactly the model's
///   batch size computes it; any other run that asks for it is refused before any work.
///
/// With a symbolic batch the model is prepared at a second batch size: an output is per sample when
/// its axis 0 follows the batch and the rest of its shape stays, and when, on seeded random inputs
/// (floats in [−4, 4], other dtypes zero), one run of two samples gives the rows of two runs of one.
/// The probe is a test, not a proof: mixing that those inputs do not reach (a term active only for
/// larger values) goes unseen. With a fixed batch, or a graph whose shapes cannot follow another
/// batch, an output whose axis 0 is the batch size is taken as per sample (as is one of a graph
/// built by hand without these declarations).
public enum OutputBatching {
    /// How `join` combines an output's chunks.
    public enum Kind: Sendable, Equatable {
        case perSample, constant, wholeBatch

        /// What a model summary says of an output of this kind (nil for per sample, the usual kind).
        public func note(batchSize b: Int) -> String? {
            switch self {
            case .perSample: return nil
            case .constant: return "constant"
            case .wholeBatch: return "depends on the whole batch: runs of \(b) sample\(b == 1 ? "" : "s") at a time"
            }
        }
    }

    /// The kind of output `name` of `graph`, from its declaration; an undeclared output is per sample
    /// when its axis 0 (`shape`, at the graph's batch size `batchSize`) is the batch size.
    public static func kind(of name: String, in graph: Graph, shape: [Int], batchSize b: Int) -> Kind {
        let dims = graph.outputs.first { $0.name == name }?.dims ?? []
        if isWholeBatch(dims) { return .wholeBatch }
        if graph.initializers[name] != nil { return .constant }
        if case .symbolic? = dims.first { return .perSample }
        return shape.first == b ? .perSample : .wholeBatch
    }

    /// Refuses, before any work, a run of `n` samples that is not one batch of `batchSize` when one of
    /// `names` is declared whole-batch.
    /// - Throws: `OctetGraphError.inputMismatch` naming the output.
    public static func checkRun(_ names: [String], in graph: Graph, samples n: Int, batchSize b: Int) throws {
        guard n != b else { return }
        for name in names {
            guard let o = graph.outputs.first(where: { $0.name == name }), isWholeBatch(o.dims) else { continue }
            throw refusal(name, "", samples: n, batchSize: b)
        }
    }

    /// Output `name` of a run of `n` samples from its values on the chunks of `batchSize` (the last
    /// one zero-padded): per sample, each chunk cut to its real samples and concatenated along axis 0;
    /// a constant, the first chunk's. A run of one batch of `batchSize` is returned as computed.
    /// - Throws: `OctetGraphError.inputMismatch` naming the output when it depends on the whole batch
    ///   and the run is not one batch; `OctetTensorError.shapeMismatch` from the concatenation.
    public static func join(_ name: String, _ parts: [Tensor], in graph: Graph, samples n: Int, batchSize b: Int) throws -> Tensor {
        if n == b && parts.count == 1 { return parts[0] }
        switch kind(of: name, in: graph, shape: parts[0].shape, batchSize: b) {
        case .perSample:
            return try TensorBatch.concat(parts.enumerated().map { i, t in TensorBatch.trimmed(t, toSamples: min(b, n - i * b), batchSize: b) })
        case .constant: return parts[0]
        case .wholeBatch: throw refusal(name, " \(parts[0].shape)", samples: n, batchSize: b)
        }
    }

    static func refusal(_ name: String, _ shape: String, samples n: Int, batchSize b: Int) -> OctetGraphError {
        .inputMismatch("output '\(name)'\(shape) depends on the batch as a whole (axis 0 is not the batch, or samples are mixed), so it is computed only for a batch of exactly \(b) sample\(b == 1 ? "" : "s"), not \(n); run \(b) at a time (a model with a symbolic batch takes another batch size: `deploy`/`export --batch N`, `load(path, batch: N)` in scripts)")
    }

    /// The dim name every dim of a whole-batch output is declared with.
    public static let wholeBatchDim = "whole_batch"

    static func isWholeBatch(_ dims: [Dim]) -> Bool { !dims.isEmpty && dims.allSatisfy { $0 == .symbolic(wholeBatchDim) } }

    /// `prepared` (prepared at batch `b` from `source`, whose inputs listed in `batchInputs` had a
    /// symbolic axis 0, named `batchName`) with each output's dims declared as its kind. Without a
    /// symbolic batch input, an output already declared whole-batch stays so.
    static func declare(_ prepared: ShapeFolding.Prepared, source: Graph, batchInputs: Set<String>, batchName: String?,
                        batch b: Int) -> Graph {
        var g = prepared.graph
        let name = batchName ?? "N"
        let probe = batchInputs.isEmpty ? nil : Probe(source: source, batchInputs: batchInputs, batch: b, prepared: prepared)
        for (i, o) in g.outputs.enumerated() {
            guard let shape = prepared.shapes[o.name] else { continue }
            let kind: Kind
            if let constant = g.initializers[o.name] {
                kind = (probe.map { $0.sameConstant(o.name, constant) } ?? !isWholeBatch(o.dims)) ? .constant : .wholeBatch
            } else if let probe {
                kind = shape.first == b && probe.perSample(o.name, shape) ? .perSample : .wholeBatch
            } else {
                kind = !isWholeBatch(o.dims) && shape.first == b ? .perSample : .wholeBatch
            }
            switch kind {
            case .perSample:
                var axis = name
                if case .symbolic(let s)? = o.dims.first, !s.isEmpty { axis = s }  // a name the graph gave it stays
                g.outputs[i].dims = shape.enumerated().map { $0 == 0 ? .symbolic(axis) : .fixed($1) }
            case .constant: g.outputs[i].dims = shape.map(Dim.fixed)
            case .wholeBatch: g.outputs[i].dims = shape.map { _ in .symbolic(wholeBatchDim) }
            }
        }
        return g
    }

    /// The model prepared at a second batch size, and a run of two seeded random samples against
    /// two runs of one.
    struct Probe {
        let shapes: [String: [Int]]
        let constants: [String: Tensor]
        let other: Int
        /// Outputs whose two-sample rows differ from the one-sample runs (nil: not probed).
        let mixed: Set<String>?

        init?(source: Graph, batchInputs: Set<String>, batch b: Int, prepared: ShapeFolding.Prepared) {
            let other = b == 1 ? 2 : 1
            guard let second = try? ShapeFolding.prepare(Self.resized(source, batchInputs, to: other)) else { return nil }
            shapes = second.shapes
            constants = second.graph.initializers
            self.other = other
            // The graphs at batch 1 and 2 for the value probe (one more preparation at a batch of 3 or more).
            let one = b == 1 ? prepared.graph : second.graph
            let two = b == 2 ? prepared.graph : b == 1 ? second.graph
                : (try? ShapeFolding.prepare(Self.resized(source, batchInputs, to: 2)))?.graph
            mixed = two.flatMap { try? Self.mixedOutputs(one: one, two: $0, batchInputs: batchInputs) }
        }

        /// Whether constant output `name` is the same constant at the other batch (not, e.g., a Shape).
        func sameConstant(_ name: String, _ value: Tensor) -> Bool { constants[name] == value }

        /// Whether `output`, of `shape` at the model's batch, is per sample at the other batch too.
        func perSample(_ output: String, _ shape: [Int]) -> Bool {
            guard let s = shapes[output], s.first == other, s.dropFirst() == shape.dropFirst() else { return false }
            return mixed.map { !$0.contains(output) } ?? true
        }

        static func resized(_ g: Graph, _ batchInputs: Set<String>, to n: Int) -> Graph {
            var g = g
            for i in g.inputs.indices where batchInputs.contains(g.inputs[i].name) { g.inputs[i].dims[0] = .fixed(n) }
            return g
        }

        /// Outputs of `two` (prepared at batch 2) whose rows differ from `one`'s (batch 1) on each sample.
        static func mixedOutputs(one: Graph, two: Graph, batchInputs: Set<String>) throws -> Set<String> {
            var feeds: [String: Tensor] = [:]
            var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
            for input in two.inputs where two.initializers[input.name] == nil {
                guard let shape = input.shape else { return [] }
                let count = shape.reduce(1, *)
                feeds[input.name] = input.dtype == .float32
                    ? Tensor(shape: shape, floats: (0..<count).map { _ in
                        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        return Float(Int64(bitPattern: seed >> 11) % 8001 - 4000) / 1000 })
                    : Tensor(zeros: shape, dtype: input.dtype)
            }
            let both = try Executor(graph: two).run(feeds)
            var rows: [[String: Tensor]] = []
            for s in 0..<2 {
                var f: [String: Tensor] = [:]
                for (k, t) in feeds { f[k] = batchInputs.contains(k) ? TensorBatch.slice(t, start: s, count: 1, padTo: 1) : t }
                rows.append(try Executor(graph: one).run(f))
            }
            var mixed: Set<String> = []
            for o in two.outputs {
                guard let t = both[o.name], t.rank > 0, t.shape[0] == 2, let r0 = rows[0][o.name], let r1 = rows[1][o.name],
                      r0.rank > 0, r0.shape[0] == 1 else { continue }
                if !close(TensorBatch.slice(t, start: 0, count: 1, padTo: 1), r0) || !close(TensorBatch.slice(t, start: 1, count: 1, padTo: 1), r1) {
                    mixed.insert(o.name)
                }
            }
            return mixed
        }

        /// Equal shapes and values: float32 within 1e-3 of the larger magnitude (NaN matching NaN),
        /// other dtypes exactly.
        static func close(_ a: Tensor, _ b: Tensor) -> Bool {
            guard a.shape == b.shape, a.dtype == b.dtype else { return false }
            guard a.dtype == .float32 else { return a == b }
            let x = a.floats, y = b.floats
            let scale = max(x.lazy.map { abs($0) }.filter(\.isFinite).max() ?? 0, 1e-30)
            for (p, q) in zip(x, y) {
                if p.isNaN || q.isNaN { if p.isNaN != q.isNaN { return false }; continue }
                if p != q && !(abs(p - q) <= 1e-3 * scale) { return false }
            }
            return true
        }
    }
}
