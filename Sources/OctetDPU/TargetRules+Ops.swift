import OctetGraph
import OctetTensor

/// Element-wise, concat, data-movement and pooling rules.
extension TargetRules {
    func eltwise(_ n: Node, _ kind: QuantOpKind, _ act: FusedActivation?) -> String? {
        let type = kind == .add ? "add" : "mult"
        guard target.eltwise.types.contains(type) else { return "eltwise engine has no \(type)" }
        return activationRule(act ?? .none, engine: "eltwise", alpha: nil)
    }

    func concat(_ n: Node) throws -> String? {
        let out = try shape(n.outputs[0], n)
        var axis = try n.int("axis", default: 1)
        if axis < 0 { axis += out.count }
        guard (out.count == 4 || out.count == 2), axis == 1 else {
            return "concat along axis \(axis) of a rank-\(out.count) tensor (the DPU concatenates channels)"
        }
        return nil
    }

    /// Reshape-like ops are free; MaxPool, Pad and nearest Resize use the ALU / load engine limits.
    func movement(_ n: Node) throws -> String? {
        switch n.opType {
        case "MaxPool":
            guard target.alu.types.contains("max_pool") else { return "alu engine has no max_pool" }
            return window(try NodeGeometry.pool(n, input: try shape(n.inputs[0], n)), what: "max pool")
        case "GlobalMaxPool":
            let x = try shape(n.inputs[0], n)
            guard x.count == 4 else { return "global max pool of a rank-\(x.count) tensor" }
            return target.alu.kernel.contains(x[2]) && target.alu.kernel.contains(x[3]) ? nil
                : "kernel \(x[2])x\(x[3]) exceeds max pool (alu) kernel limit \(range(target.alu.kernel))"
        case "Resize", "Upsample":
            let x = try shape(n.inputs[0], n), y = try shape(n.outputs[0], n)
            guard x.count == 4, y.count == 4, x[0] == y[0], x[1] == y[1],
                  y[2] % x[2] == 0, y[3] % x[3] == 0 else {
                return "nearest resize \(x) → \(y) is not an integer spatial upsample"
            }
            if (try? n.string("coordinate_transformation_mode", default: "half_pixel")) == "align_corners" {
                return "nearest resize with align_corners"
            }
            return nil
        case "Pad":
            let x = try shape(n.inputs[0], n), y = try shape(n.outputs[0], n)
            guard x.count == 4, x[0] == y[0], x[1] == y[1] else { return "pad outside the spatial axes" }
            return nil
        default:
            return nil
        }
    }

    func averagePool(_ n: Node) throws -> String? {
        guard target.alu.types.contains("avg_pool") else { return "alu engine has no avg_pool" }
        let x = try shape(n.inputs[0], n)
        if n.opType == "AveragePool" { return window(try NodeGeometry.pool(n, input: x), what: "average pool") }
        guard x.count == 4 else { return "mean over a rank-\(x.count) tensor" }
        return target.alu.kernel.contains(x[2]) && target.alu.kernel.contains(x[3]) ? nil
            : "kernel \(x[2])x\(x[3]) exceeds average pool (alu) kernel limit \(range(target.alu.kernel))"
    }

    func window(_ g: ConvGeometry, what: String) -> String? {
        let a = target.alu
        if !a.kernel.contains(g.kernelH) || !a.kernel.contains(g.kernelW) {
            return "kernel \(g.kernelH)x\(g.kernelW) exceeds \(what) (alu) kernel limit \(range(a.kernel))"
        }
        if !a.stride.contains(g.strideH) || !a.stride.contains(g.strideW) {
            return "stride \(g.strideH)x\(g.strideW) exceeds \(what) (alu) stride limit \(range(a.stride))"
        }
        if g.dilationH != 1 || g.dilationW != 1 { return "\(what) with dilation \(g.dilationH)x\(g.dilationW) (the alu pools undilated windows)" }
        return padRule(g)
    }
}
