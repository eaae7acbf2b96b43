import Dispatch
import OctetGraph
import OctetTensor

/// An int8 tensor produced by the emulator: codes and fix_pos (value = code · 2^−fix_pos).
public struct DPUTensor: Sendable, Equatable {
    public var codes: Tensor
    public var fixPos: Int
    public init(codes: Tensor, fixPos: Int) { self.codes = codes; self.fixPos = fixPos }
    /// The real values codes · 2^−fix_pos.
    public var real: Tensor { Tensor(shape: codes.shape, floats: QuantMath.dequantize(codes.int8s, fixPos: fixPos)) }
}

/// Runs a `Program` bit-exactly as the DPU computes it.
///
/// Integer instructions use OctetTensor's INT8 kernels (int8 operands, int32 accumulation, one
/// DPU_ROUND half-up and saturation per requantization; reference-quantizer §4). Integer
/// instructions the target sent to the CPU run the same integer form (the CPU reference of their
/// `-fix` op). `.float` instructions run float kernels on dequantized inputs and re-quantize
/// (half-up) any output that carries a fix_pos, so CPU subgraphs meet DPU subgraphs in int8.
/// A batch of any size N is run in chunks of the program's batch size.
public final class Emulator: @unchecked Sendable {
    enum Value { case int8(Tensor, Int), float(Tensor) }

    public let program: Program
    /// Kernel threads.
    public var threads: Int

    /// - Throws: `OctetDPUError.targetMismatch` when `target` is given and differs from the program's.
    public init(program: Program, target: DPUTarget? = nil, threads: Int = KernelConfig.threads) throws {
        if let t = target, t.name != program.target { throw OctetDPUError.targetMismatch(program: program.target, expected: t.name) }
        self.program = program
        self.threads = max(1, threads)
    }

    var graph: Graph { program.graph }

    /// Runs a single-input program and returns its first output as real values.
    public func run(_ x: Tensor) throws -> Tensor {
        guard let input = graph.inputs.first(where: { graph.initializers[$0.name] == nil }) else {
            throw OctetDPUError.inputMismatch("program has no input")
        }
        let first = graph.outputs[0].name
        return try run([input.name: x], capture: false, outputs: [first]).outputs[first]!
    }

    /// Runs a batch and returns the graph outputs `outputs` (nil: all; real values, joined over the
    /// chunks as `OutputBatching.join` joins them) and, with `capture`, every int8 tensor by name
    /// (network inputs, instruction outputs, CPU outputs re-quantized).
    /// - Throws: `OctetDPUError.inputMismatch` for a missing, non-float or mis-shaped input;
    ///   `.execution` naming the node. `timing`, when given, receives each instruction and its
    ///   wall time in nanoseconds (for profiles).
    public func run(_ feeds: [String: Tensor], capture: Bool = false, timing: ((Instruction, UInt64) -> Void)? = nil,
                    outputs wanted: [String]? = nil) throws -> (outputs: [String: Tensor], tensors: [String: DPUTensor]) {
        let n = try sampleCount(feeds)
        let names = wanted ?? graph.outputs.map(\.name)
        try OutputBatching.checkRun(names, in: graph, samples: n, batchSize: program.batchSize)
        var parts: [[String: Tensor]] = [], caught: [String: [Tensor]] = [:], fps: [String: Int] = [:]
        try TensorBatch.forEachChunk(feeds, samples: n, batchSize: program.batchSize) { chunk in
            let out = try runChunk(chunk, timing: timing) { name, t, f in
                guard capture else { return }
                caught[name, default: []].append(t); fps[name] = f
            }
            parts.append(out)
        }
        var outputs: [String: Tensor] = [:]
        for name in names { outputs[name] = try OutputBatching.join(name, parts.map { $0[name]! }, in: graph, samples: n, batchSize: program.batchSize) }
        var tensors: [String: DPUTensor] = [:]
        for (k, v) in caught { tensors[k] = DPUTensor(codes: try TensorBatch.join(v, name: k, samples: n, batchSize: program.batchSize), fixPos: fps[k]!) }
        return (outputs, tensors)
    }

    func sampleCount(_ feeds: [String: Tensor]) throws -> Int {
        var n: Int?
        for input in graph.inputs where graph.initializers[input.name] == nil {
            let tail = Array((input.shape ?? []).dropFirst())
            guard let t = feeds[input.name] else { throw OctetDPUError.inputMismatch("missing value for input '\(input.name)'") }
            guard t.dtype == .float32 else { throw OctetDPUError.inputMismatch("input '\(input.name)': expected float32, got \(t.dtype)") }
            guard t.rank > 0, Array(t.shape.dropFirst()) == tail, t.shape[0] > 0 else {
                throw OctetDPUError.inputMismatch("input '\(input.name)': expected shape [N, \(tail.map(String.init).joined(separator: ", "))], got \(t.shape)")
            }
            if let m = n, m != t.shape[0] { throw OctetDPUError.inputMismatch("inputs have different batch sizes (\(m) and \(t.shape[0]))") }
            n = t.shape[0]
        }
        guard let count = n else { throw OctetDPUError.inputMismatch("program has no input") }
        return count
    }

    /// One chunk at the program's batch size; `emit` receives every int8 tensor produced.
    func runChunk(_ feeds: [String: Tensor], timing: ((Instruction, UInt64) -> Void)? = nil,
                  emit: (String, Tensor, Int) -> Void) throws -> [String: Tensor] {
        var values: [String: Value] = [:]
        for input in graph.inputs where graph.initializers[input.name] == nil {
            let v = try quantizeIfNeeded(input.name, feeds[input.name]!)
            values[input.name] = v
            if case .int8(let t, let f) = v { emit(input.name, t, f) }
        }
        for ins in program.instructions {
            let node = graph.nodes[ins.nodeIndex]
            do {
                let t0 = timing == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                let produced = try execute(ins, node, values)
                timing?(ins, DispatchTime.now().uptimeNanoseconds - t0)
                for (name, v) in produced {
                    values[name] = v
                    if case .int8(let t, let f) = v { emit(name, t, f) }
                }
            } catch let e as OctetDPUError {
                throw e
            } catch {
                throw OctetDPUError.execution(node: ins.node, reason: "\(error)")
            }
        }
        var out: [String: Tensor] = [:]
        for o in graph.outputs {
            guard let v = values[o.name] ?? graph.initializers[o.name].map(Value.float) else {   // a constant output
                throw OctetDPUError.execution(node: o.name, reason: "graph output was not computed")
            }
            out[o.name] = real(v)
        }
        return out
    }

    /// Float → int8 at the tensor's fix_pos (half-up, saturating) when it has one.
    func quantizeIfNeeded(_ name: String, _ x: Tensor) throws -> Value {
        guard x.dtype == .float32, let f = program.fixPos[name] else { return .float(x) }
        return .int8(Tensor(shape: x.shape, int8s: try QuantMath.quantizeToInt8(x.floats, fixPos: f, range: .int8, rounding: .halfUp)), f)
    }

    func real(_ v: Value) -> Tensor {
        switch v {
        case .float(let t): return t
        case .int8(let t, let f): return Tensor(shape: t.shape, floats: QuantMath.dequantize(t.int8s, fixPos: f))
        }
    }

    func fp(_ t: String, _ ins: Instruction) throws -> Int {
        guard let f = program.fixPos[t] else { throw OctetDPUError.missingFixPos(tensor: t, node: ins.node) }
        return f
    }

    /// Codes and fix_pos of an activation or a quantized constant.
    func int8(_ t: String, _ values: [String: Value], _ ins: Instruction) throws -> (Tensor, Int) {
        if let c = program.constants[t] { return (c, try fp(t, ins)) }
        guard let v = values[t] else { throw OctetDPUError.execution(node: ins.node, reason: "tensor '\(t)' has no value") }
        switch v {
        case .int8(let x, let f): return (x, f)
        case .float(let x):
            guard case .int8(let q, let f) = try quantizeIfNeeded(t, x) else { throw OctetDPUError.missingFixPos(tensor: t, node: ins.node) }
            return (q, f)
        }
    }
}
