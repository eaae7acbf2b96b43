import OctetGraph
import OctetTensor

/// Runs a quantized graph the way integer hardware does: int8 tensors, int32 accumulation in
/// OctetTensor's INT8 kernels (the DPU emulator's kernels), one DPU_ROUND and saturation per
/// requantization; CPU nodes in float between dequantize and quantize (half-up).
struct IntegerExecutor {
    enum Value { case int8(Tensor, Int), float(Tensor) }

    let graph: Graph
    let plan: QuantPlan
    let annotations: QuantAnnotations
    /// int8 codes of every power-of-two per-tensor parameter.
    let codes: [String: Tensor]

    func fp(_ t: String) throws -> Int {
        guard let f = annotations.tensors[t]?.fixPos else {
            throw OctetQuantError.invalidParameter("tensor '\(t)' has no fix_pos")
        }
        return f
    }

    /// One chunk at the graph's batch size. `capture` receives every int8 tensor produced.
    func run(_ feeds: [String: Tensor], capture: ((String, Tensor, Int) -> Void)?) throws -> [String: Tensor] {
        var values: [String: Value] = [:]
        for input in graph.inputs where graph.initializers[input.name] == nil {
            guard let x = feeds[input.name] else { throw OctetGraphError.inputMismatch("missing value for graph input '\(input.name)'") }
            let v = try quantizeIfNeeded(input.name, x)
            if case .int8(let t, let f) = v { capture?(input.name, t, f) }
            values[input.name] = v
        }
        for (i, node) in graph.nodes.enumerated() {
            do {
                let produced = try compute(plan.nodes[i], node, values)
                for (name, v) in produced {
                    values[name] = v
                    if case .int8(let t, let f) = v { capture?(name, t, f) }
                }
            } catch let e as OctetTensorError {
                throw OctetGraphError.execution(node: node.label, reason: e.description)
            }
        }
        var out: [String: Tensor] = [:]
        for o in graph.outputs {
            guard let v = values[o.name] ?? graph.initializers[o.name].map(Value.float) else {   // a constant output
                throw OctetGraphError.badModel("graph output '\(o.name)' was not computed")
            }
            out[o.name] = real(v)
        }
        return out
    }

    /// Float → int8 at the tensor's fix_pos (half-up) when it is quantized.
    func quantizeIfNeeded(_ name: String, _ x: Tensor) throws -> Value {
        guard x.dtype == .float32, let p = annotations.tensors[name], let f = p.fixPos else { return .float(x) }
        return .int8(try ParameterQuantizer.int8Codes(x, p, rounding: .halfUp), f)
    }

    func real(_ v: Value) -> Tensor {
        switch v {
        case .float(let t): return t
        case .int8(let t, let f): return Tensor(shape: t.shape, floats: QuantMath.dequantize(t.int8s, fixPos: f))
        }
    }

    /// int8 codes and fix_pos of an activation input or a quantized constant.
    func int8(_ t: String, _ values: [String: Value]) throws -> (Tensor, Int) {
        if let c = codes[t] { return (c, try fp(t)) }
        guard let v = values[t] else { throw OctetQuantError.invalidParameter("tensor '\(t)' has no value") }
        switch v {
        case .int8(let x, let f): return (x, f)
        case .float(let x):
            guard case .int8(let q, let f) = try quantizeIfNeeded(t, x) else {
                throw OctetQuantError.invalidParameter("tensor '\(t)' feeds a DPU op but has no quantizer")
            }
            return (q, f)
        }
    }

    private func compute(_ a: QuantNodeAnnotation, _ n: Node, _ values: [String: Value]) throws -> [(String, Value)] {
        switch a.kind {
        case .conv: return [(a.output!, .int8(try conv(a, n, values), try fp(a.output!)))]
        case .fused: return []
        case .add, .mul:
            let (x, fx) = try int8(n.inputs[0], values), (y, fy) = try int8(n.inputs[1], values)
            let fo = try fp(a.output!)
            var r = a.kind == .add ? try Int8Kernels.add(x, fixPos: fx, y, fixPos: fy, outFixPos: fo)
                                   : try Int8Kernels.mul(x, fixPos: fx, y, fixPos: fy, outFixPos: fo)
            r = IntegerForms.clamp(r, a.activation, fixPos: fo)
            return [(a.output!, .int8(r, fo))]
        case .concat: return [(a.output!, .int8(try concat(a, n, values), try fp(a.output!)))]
        case .passThrough: return try passThrough(n, values)
        case .averagePool: return [(a.output!, .int8(try averagePool(a, n, values), try fp(a.output!)))]
        case .activation:
            let (x, fx) = try int8(n.inputs[0], values), fo = try fp(a.output!)
            return [(a.output!, .int8(IntegerForms.activation(x, a.activation ?? .none, fpIn: fx, fpOut: fo), fo))]
        case .hardSigmoid, .hardSwish:
            let (x, fx) = try int8(n.inputs[0], values), fo = try fp(a.output!)
            let y = a.kind == .hardSigmoid ? IntegerForms.hardSigmoid(x, fpIn: fx, fpOut: fo) : IntegerForms.hardSwish(x, fpIn: fx, fpOut: fo)
            return [(a.output!, .int8(y, fo))]
        case .float, .excluded, .nonFloat: return try floatNode(n, values)
        }
    }
}
