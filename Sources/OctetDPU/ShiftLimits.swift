import OctetGraph
import OctetTensor

/// The DPU's shift ranges, checked on every DPU instruction (reference-quantizer §4.1, §4.2, §4.4;
/// the quantizer's constraint pass enforces the same ranges when it calibrates).
enum ShiftLimits {
    static let shiftCut = 0...16
    static let shiftBiasMax = 16
    static let shiftRead = 0...15
    static let shiftWrite = -15...15
    /// Mul product shift fp_a + fp_b − fp_out: the integer multiply's window.
    static let mulShift = -24...24
    /// Hard-sigmoid: fp_in ≥ 0, fp_out ≥ 7; hard-swish: fp_in ≥ 0, fp_out ≤ fp_in + 7.
    static let fixPosCeiling = 31

    static func check(_ ins: Instruction, _ n: Node, _ fp: [String: Int]) throws {
        func fail(_ shift: String, _ v: Int, _ r: ClosedRange<Int>) throws {
            if !r.contains(v) { throw OctetDPUError.shiftOutOfRange(node: ins.node, shift: shift, value: v, range: r) }
        }
        switch ins.kind {
        case .conv, .depthwiseConv, .transposedConv, .fullyConnected:
            guard let sc = ins.shiftCut else { return }
            try fail("shift_cut (fp_in + fp_w − fp_out)", sc, shiftCut)
            if let sb = ins.shiftBias { try fail("shift_bias (fp_in + fp_w − fp_b)", sb, min(0, sc - 16)...shiftBiasMax) }
        case .add, .mul:
            if let r = ins.shiftRead { try fail("shift_read (max fp_in − min fp_in)", r, shiftRead) }
            if let w = ins.shiftWrite { try fail("shift_write (min fp_in − fp_out)", w, shiftWrite) }
            if ins.kind == .mul, n.inputs.count == 2, let a = fp[n.inputs[0]], let b = fp[n.inputs[1]], let out = ins.output, let o = fp[out] {
                try fail("mul shift (fp_a + fp_b − fp_out)", a + b - o, mulShift)
            }
        case .hardSigmoid, .hardSwish:
            guard let fin = fp[n.inputs[0]], let out = ins.output, let fout = fp[out] else { return }
            let name = ins.kind == .hardSigmoid ? "hard-sigmoid" : "hard-swish"
            try fail("\(name) fp_in", fin, 0...fixPosCeiling)
            if ins.kind == .hardSigmoid { try fail("hard-sigmoid fp_out", fout, 7...fixPosCeiling) }
            else { try fail("hard-swish fp_in + 7 − fp_out", fin + 7 - fout, 0...fixPosCeiling) }
        default: return
        }
    }
}
