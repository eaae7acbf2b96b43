import Foundation
import OctetTensor

/// A loaded, prepared float model: the graph specialised to a batch size, with shape
/// subgraphs folded to constants, and its executor.
///
/// `run` accepts any batch size: inputs are split into chunks of the model's batch size
/// (1 for models exported with a fixed batch of 1), run, and the outputs concatenated
/// along axis 0. Weights are loaded once and shared by every run.
public final class Model: @unchecked Sendable {
    public let graph: Graph
    public let path: String?
    /// Batch size the graph was specialised to.
    public let batchSize: Int
    /// The inputs whose symbolic axis 0 took the requested batch size (empty: the model fixes its batch).
    public let symbolicBatchInputs: Set<String>
    /// Whether an input's symbolic axis 0 took the requested batch size (else the model fixes its batch).
    public var symbolicBatch: Bool { !symbolicBatchInputs.isEmpty }
    /// Shape of every tensor at `batchSize`, recorded while preparing the graph.
    public let tensorShapes: [String: [Int]]
    public let executor: Executor

    /// Loads an ONNX model. `batchSize` gives symbolic leading dimensions a value
    /// (default 1); other symbolic dimensions must be given through `dims`.
    /// - Throws: the importer's errors, `OctetGraphError.symbolicDim` for an unresolved
    ///   dimension, `.unsupportedOp` naming the node; each names the file (`.inModel`).
    public static func load(path: String, batchSize: Int = 1, dims: [String: Int] = [:]) throws -> Model {
        do {
            let g = try ONNXImporter.load(path: path)
            return try Model(graph: g, path: path, batchSize: batchSize, dims: dims)
        } catch let e as OctetGraphError {
            throw e.naming(path)
        }
    }

    /// The largest batch a model is run at (each run is cut into chunks of it).
    public static let maxBatchSize = 65_536

    public init(graph: Graph, path: String? = nil, batchSize: Int = 1, dims: [String: Int] = [:]) throws {
        guard (1...Model.maxBatchSize).contains(batchSize) else {
            throw OctetGraphError.inputMismatch("batch size must be in 1...\(Model.maxBatchSize), got \(batchSize)")
        }
        guard !graph.outputs.isEmpty else { throw OctetGraphError.badModel("\(path.map { "\($0): " } ?? "")the model has no outputs") }
        var g = graph
        var batch = batchSize
        var batchInputs: Set<String> = []  // inputs whose symbolic axis 0 takes `batchSize`
        for (i, input) in g.inputs.enumerated() {
            g.inputs[i].dims = try input.dims.enumerated().map { axis, d in
                switch d {
                case .fixed(let v):
                    if axis == 0 { batch = v }
                    return .fixed(v)
                case .symbolic(let name):
                    if let v = dims[name] {
                        guard v >= 0 else { throw OctetGraphError.inputMismatch("input '\(input.name)': dimension \(name) = \(v) is negative") }
                        return .fixed(v)
                    }
                    if axis == 0 { batchInputs.insert(input.name); return .fixed(batchSize) }
                    throw OctetGraphError.symbolicDim(input: input.name, dim: name.isEmpty ? "axis \(axis)" : name)
                }
            }
        }
        for input in g.inputs where graph.initializers[input.name] == nil {
            guard let shape = input.shape, let n = Tensor.checkedByteCount(shape), n <= Node.maxOutputElements else {
                throw OctetGraphError.inputMismatch("input '\(input.name)': shape \(input.dims) is larger than \(Node.maxOutputElements) elements")
            }
            if let b = shape.first, !(1...Model.maxBatchSize).contains(b) {
                throw OctetGraphError.inputMismatch("input '\(input.name)': batch dimension \(b) is outside 1...\(Model.maxBatchSize)")
            }
        }
        let prepared = try ShapeFolding.prepare(g)
        let batchName = graph.inputs.lazy.compactMap { input -> String? in
            guard batchInputs.contains(input.name), case .symbolic(let s)? = input.dims.first, !s.isEmpty else { return nil }
            return s
        }.first
        self.graph = OutputBatching.declare(prepared, source: g, batchInputs: batchInputs, batchName: batchName, batch: batch)
        self.tensorShapes = prepared.shapes
        self.executor = try Executor(graph: prepared.graph)
        self.path = path
        self.batchSize = batch
        self.symbolicBatchInputs = batchInputs
    }

    /// How output `name` joins over the chunks of a run (`OutputBatching`).
    public func outputBatching(_ name: String) -> OutputBatching.Kind {
        OutputBatching.kind(of: name, in: graph, shape: tensorShapes[name] ?? [], batchSize: batchSize)
    }

    public var inputs: [ValueInfo] { graph.inputs }
    public var outputs: [ValueInfo] { graph.outputs }

    /// Runs a batch of any size N through the model.
    /// - Parameter feeds: input name → tensor of shape [N, ...rest of the input's shape].
    /// - Parameter outputs: the outputs wanted (nil: all); only these must be computable for N.
    /// - Returns: output name → tensor [N, …]; a constant output as it is (`OutputBatching`).
    /// - Throws: `OctetGraphError.inputMismatch` for a missing input, wrong dtype or shape, or a
    ///   wanted output that depends on the whole batch when N is not the batch size.
    public func run(_ feeds: [String: Tensor], hook: Executor.NodeHook? = nil, outputs: [String]? = nil) throws -> [String: Tensor] {
        let n = try validate(feeds)
        let names = outputs ?? graph.outputs.map(\.name)
        try OutputBatching.checkRun(names, in: graph, samples: n, batchSize: batchSize)
        if n == batchSize { return try executor.run(feeds, hook: hook) }
        var parts: [[String: Tensor]] = []
        try TensorBatch.forEachChunk(feeds, samples: n, batchSize: batchSize) { chunk in
            parts.append(try executor.run(chunk, hook: hook))
        }
        var result: [String: Tensor] = [:]
        for name in names {
            result[name] = try OutputBatching.join(name, parts.map { $0[name]! }, in: graph, samples: n, batchSize: batchSize)
        }
        return result
    }

    /// Runs a model with one input on `x` and returns its first output.
    public func run(_ x: Tensor) throws -> Tensor {
        guard graph.inputs.count == 1 else {
            throw OctetGraphError.inputMismatch("model has \(graph.inputs.count) inputs; pass them by name")
        }
        let first = graph.outputs[0].name
        return try run([graph.inputs[0].name: x], outputs: [first])[first]!
    }

    /// Checks one batch against graph input `input`: its dtype and its shape [N, …] apart from N.
    /// - Throws: `OctetGraphError.inputMismatch` naming the input, the expected and the given.
    public func check(_ t: Tensor, for input: ValueInfo) throws {
        guard t.dtype == input.dtype else {
            throw OctetGraphError.inputMismatch("input '\(input.name)': expected \(input.dtype), got \(t.dtype)")
        }
        try checkShape(t, for: input)
    }

    /// Checks one batch's shape [N, …] against graph input `input`, apart from N (dtype aside, for
    /// data converted later). - Throws: `OctetGraphError.inputMismatch` as `check`.
    public func checkShape(_ t: Tensor, for input: ValueInfo) throws {
        let expected = input.shape ?? []
        guard t.rank == expected.count, t.rank > 0, Array(t.shape.dropFirst()) == Array(expected.dropFirst()) else {
            let want = (["N"] + expected.dropFirst().map(String.init)).joined(separator: ", ")
            throw OctetGraphError.inputMismatch("input '\(input.name)': expected shape [\(want)], got \(t.shape)")
        }
    }

    /// Checks dtypes and per-sample shapes; returns the common batch size N.
    private func validate(_ feeds: [String: Tensor]) throws -> Int {
        var n: Int? = nil
        for input in graph.inputs {
            guard let t = feeds[input.name] else {
                throw OctetGraphError.inputMismatch("missing input '\(input.name)' (model inputs: \(graph.inputs.map(\.name).joined(separator: ", ")))")
            }
            try check(t, for: input)
            if let m = n, m != t.shape[0] {
                throw OctetGraphError.inputMismatch("inputs have different batch sizes (\(m) and \(t.shape[0]))")
            }
            n = t.shape[0]
        }
        guard let count = n, count > 0 else { throw OctetGraphError.inputMismatch("empty input batch") }
        return count
    }
}
