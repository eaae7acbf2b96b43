import OctetGraph
import OctetTensor

extension QuantPlanBuilder {
    /// Marks activations that join their producer's group.
    mutating func findFusions(_ kinds: inout [QuantOpKind]) {
        for (i, n) in g.nodes.enumerated() where kinds[i] == .conv || kinds[i] == .add {
            let out = n.outputs[0]
            guard g.useCount(of: out) == 1, let j = g.consumers(of: out).first, kinds[j] == .activation,
                  let act = activation(g.nodes[j]) else { continue }
            if kinds[i] == .add && act == .leakyRelu { continue }
            fusedInto[j] = i
            fusedActivation[i] = act
            kinds[j] = .fused
        }
    }

    /// The tensor a node's group writes (the fused activation's output for a fused group).
    func groupOutput(_ i: Int) -> String {
        if let j = fusedInto.first(where: { $0.value == i })?.key { return g.nodes[j].outputs[0] }
        return g.nodes[i].outputs[0]
    }

    /// Producers whose only consumer is a DPU Concat share the Concat output's quantizer. A
    /// hard-sigmoid keeps its own: its output needs fix_pos ≥ 7, which a shared quantizer cannot
    /// give when another member needs less (the Concat then requantizes it).
    mutating func findConcatShares(_ kinds: [QuantOpKind]) {
        let owners: Set<QuantOpKind> = [.conv, .add, .mul, .averagePool, .activation, .hardSwish, .float]
        for (ci, c) in g.nodes.enumerated() where kinds[ci] == .concat {
            for t in c.inputs where g.useCount(of: t) == 1 {
                guard let pi = g.producerIndex(of: t) else { continue }
                let head = fusedInto[pi] ?? pi
                if owners.contains(kinds[head]) && groupOutput(head) == t { concatShare[t] = c.outputs[0] }
            }
        }
    }

    /// Fills the annotation of node `i` and registers its quantizers.
    mutating func annotate(_ i: Int, _ n: Node, _ k: QuantOpKind) throws {
        var a = QuantNodeAnnotation(node: QuantPlan.key(n), opType: n.opType, kind: k,
                                    device: [.float, .excluded, .nonFloat].contains(k) ? .cpu : .dpu)
        if k.needsQuantizedInputs { requireQuantizedInputs(n) }
        switch k {
        case .conv:
            a.weight = n.inputs[1]
            parameters[n.inputs[1]] = false
            if n.inputs.count > 2, !n.inputs[2].isEmpty { a.bias = n.inputs[2]; parameters[n.inputs[2]] = true }
            a.activation = fusedActivation[i] ?? FusedActivation.none
            a.output = groupOutput(i)
            try checkLeaky(fusedInto.first { $0.value == i }.map { g.nodes[$0.key] })
        case .fused:
            a.output = n.outputs[0]
            a.activation = activation(n)
            a.device = .dpu
        case .passThrough:
            if let src = canonical[n.inputs[0]] { for o in n.outputs where !o.isEmpty { canonical[o] = src } }
            a.output = n.outputs[0]
        case .add, .mul, .activation:
            for t in n.inputs where g.initializers[t] != nil { parameters[t] = false }
            a.activation = k == .activation ? activation(n) : fusedActivation[i].map { $0 }
            if k == .activation { try checkLeaky(n) }
            a.output = groupOutput(i)
        case .averagePool:
            a.avgPoolFactor = try avgPoolFactor(n)
            try checkPaddedAverage(n)
            a.output = n.outputs[0]
        case .excluded, .nonFloat:
            break
        default:
            a.output = n.outputs[0]
        }
        if let out = a.output, k != .passThrough, k != .fused { registerOutput(out) }
        if k == .concat { for t in n.inputs where g.initializers[t] != nil { parameters[t] = false } }
        nodes.append(a)
    }

    /// Registers a group output: shared with a Concat output, or its own quantizer.
    mutating func registerOutput(_ t: String) {
        if let c = concatShare[t] {
            addQuantizer(c)
            canonical[t] = c
        } else {
            addQuantizer(t)
        }
    }

    /// Float activation inputs of a DPU op without a quantizer (outputs of excluded nodes) get one.
    mutating func requireQuantizedInputs(_ n: Node) {
        for t in n.inputs where !t.isEmpty && info.isFloat(t) && g.initializers[t] == nil && canonical[t] == nil {
            addQuantizer(t)
        }
    }

    mutating func checkLeaky(_ n: Node?) throws {
        guard let n, n.opType == "LeakyRelu" else { return }
        let alpha = try n.float("alpha", default: 0.01)
        if alpha != DPUMath.dpuLeakyReluAlpha {
            leakyReplaced.append((alpha, QuantPlan.key(n)))
        }
    }

    /// The DPU divides every window by k = KH·KW (`sum · N / 2^M`): an AveragePool with
    /// count_include_pad = 0 whose windows cross the input border (pads or ceil_mode) is computed
    /// as with count_include_pad = 1 there, so its border outputs change (ONNX AveragePool spec).
    mutating func checkPaddedAverage(_ n: Node) throws {
        guard n.opType == "AveragePool", try n.int("count_include_pad", default: 0) == 0,
              let s = info.shapes[n.inputs[0]] else { return }
        let g = try NodeGeometry.pool(n, input: s)
        let crossesH = g.padTop > 0 || (g.outH - 1) * g.strideH - g.padTop + (g.kernelH - 1) * g.dilationH >= g.inH
        let crossesW = g.padLeft > 0 || (g.outW - 1) * g.strideW - g.padLeft + (g.kernelW - 1) * g.dilationW >= g.inW
        guard crossesH || crossesW else { return }
        warnings.append("AveragePool \(QuantPlan.key(n)): count_include_pad = 0 with windows crossing the border; "
            + "the DPU divides by the full \(g.kernelH)×\(g.kernelW) window there (as count_include_pad = 1)")
    }

    /// The DPU's (N, M) of an average over the node's window. - Throws: naming the node.
    func avgPoolFactor(_ n: Node) throws -> [Int] {
        let s = info.shapes[n.inputs[0]]!
        let f: DPUMath.AvgPoolFactor
        do {
            switch n.opType {
            case "AveragePool":
                let geo = try NodeGeometry.pool(n, input: s)
                f = try DPUMath.avgPoolFactor(kernelH: geo.kernelH, kernelW: geo.kernelW)
            case "GlobalAveragePool": f = try DPUMath.avgPoolFactor(kernelH: s[2], kernelW: s[3])
            default: f = try DPUMath.meanFactor(count: s[2] * s[3])
            }
        } catch let e as OctetTensorError {
            throw OctetGraphError.execution(node: n.label, reason: "\(e) (input shape \(s))")
        }
        return [f.multiplier, f.shift]
    }
}

extension QuantOpKind {
    /// DPU ops whose float activation inputs must be quantized.
    var needsQuantizedInputs: Bool {
        switch self {
        case .conv, .add, .mul, .concat, .passThrough, .averagePool, .activation, .hardSigmoid, .hardSwish: return true
        default: return false
        }
    }
}
