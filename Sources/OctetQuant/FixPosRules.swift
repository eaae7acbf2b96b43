/// DPU fix_pos constraints as pure functions (reference-quantizer §4.1, §4.2, §4.4).
///
/// Each rule returns adjusted positions plus one `FixPosAdjustment` per change. Sources:
/// vai_q_pytorch `nndct_shared/quantization/fix_pos_adjust.py` (shift_cut / shift_bias,
/// hard-sigmoid, hard-swish), vai_q_tensorflow2 `vitis_pof2s_refine_transforms.py` and
/// vai_q_onnx `refine.py` (add/mul shift_read / shift_write, concat, pool).
public enum FixPosRules {
    /// Allowed shift_cut = fp_w + fp_in − fp_out.
    public static let shiftCutRange = 0...16
    /// Upper bound of shift_bias = fp_w + fp_in − fp_b (lower bound depends on shift_cut).
    public static let shiftBiasMax = 16
    /// Allowed add/mul shift_read = max(fp_in) − min(fp_in).
    public static let shiftReadRange = 0...15
    /// Allowed add/mul shift_write = min(fp_in) − fp_out.
    public static let shiftWriteRange = -15...15
    /// Allowed Mul product shift fp_a + fp_b − fp_out: the integer multiply's window
    /// (`Int8Eltwise`; the emulator runs the same kernel).
    public static let mulShiftRange = -24...24

    /// shift_cut ∈ [0, 16]. Below 0: fp_out is lowered to fp_w + fp_in. Above 16: fp_w is
    /// lowered to 16 + fp_out − fp_in (PyTorch fix).
    public static func shiftCut(_ c: ConvFixPos) -> Adjusted<ConvFixPos> {
        var p = c
        var log = [FixPosAdjustment]()
        let sc = c.shiftCut
        let why = "shift_cut = fp_w + fp_in − fp_out = \(sc) outside [0, 16]"
        if sc < shiftCutRange.lowerBound {
            set(&p.output, c.weight.fixPos + c.input.fixPos, "shift_cut", why, &log)
        } else if sc > shiftCutRange.upperBound {
            set(&p.weight, shiftCutRange.upperBound + c.output.fixPos - c.input.fixPos, "shift_cut", why, &log)
        }
        return Adjusted(positions: p, adjustments: log)
    }

    /// Lower bound of shift_bias for a given shift_cut: min(0, −(24 − (8 + shift_cut))).
    public static func shiftBiasMin(shiftCut sc: Int) -> Int { min(0, -(24 - (8 + sc))) }

    /// shift_bias ∈ [min(0, shift_cut − 16), 16]. Below: fp_b is lowered to the bound.
    /// Above 16: fp_w is lowered to 16 + fp_b − fp_in. No change without bias.
    public static func shiftBias(_ c: ConvFixPos) -> Adjusted<ConvFixPos> {
        guard let bias = c.bias, let sb = c.shiftBias else { return Adjusted(positions: c, adjustments: []) }
        var p = c
        var log = [FixPosAdjustment]()
        let lo = shiftBiasMin(shiftCut: c.shiftCut)
        let why = "shift_bias = fp_w + fp_in − fp_b = \(sb) outside [\(lo), \(shiftBiasMax)]"
        if sb < lo {
            var b = bias
            set(&b, c.weight.fixPos + c.input.fixPos - lo, "shift_bias", why, &log)
            p.bias = b
        } else if sb > shiftBiasMax {
            set(&p.weight, shiftBiasMax + bias.fixPos - c.input.fixPos, "shift_bias", why, &log)
        }
        return Adjusted(positions: p, adjustments: log)
    }

    /// shift_cut then shift_bias, repeated until both hold (lowering fp_w for shift_bias can
    /// push shift_cut below 0, which then lowers fp_out). Terminates within three rounds.
    public static func conv(_ c: ConvFixPos) -> Adjusted<ConvFixPos> {
        var p = c
        var log = [FixPosAdjustment]()
        for _ in 0..<4 {
            let cut = shiftCut(p)
            let bias = shiftBias(cut.positions)
            let changes = cut.adjustments + bias.adjustments
            if changes.isEmpty { break }
            log += changes
            p = bias.positions
        }
        return Adjusted(positions: p, adjustments: log)
    }

    /// Add / Mul: shift_read = max(fp_in) − min(fp_in) ≤ 15 (inputs above min + 15 are lowered),
    /// then shift_write = min(fp_in) − fp_out ∈ [−15, 15] (fp_out moved to the nearest bound).
    public static func eltwise(_ op: OpFixPos) -> Adjusted<OpFixPos> {
        var p = op
        var log = [FixPosAdjustment]()
        guard let lowest = op.inputs.map(\.fixPos).min(), let highest = op.inputs.map(\.fixPos).max() else {
            return Adjusted(positions: op, adjustments: [])
        }
        let read = highest - lowest
        if read > shiftReadRange.upperBound {
            let why = "shift_read = max(fp_in) − min(fp_in) = \(read) > \(shiftReadRange.upperBound)"
            for k in p.inputs.indices where p.inputs[k].fixPos > lowest + shiftReadRange.upperBound {
                set(&p.inputs[k], lowest + shiftReadRange.upperBound, "shift_read", why, &log)
            }
        }
        let write = lowest - op.output.fixPos
        let why = "shift_write = min(fp_in) − fp_out = \(write) outside [−15, 15]"
        if write > shiftWriteRange.upperBound {
            set(&p.output, lowest - shiftWriteRange.upperBound, "shift_write", why, &log)
        } else if write < shiftWriteRange.lowerBound {
            set(&p.output, lowest - shiftWriteRange.lowerBound, "shift_write", why, &log)
        }
        return Adjusted(positions: p, adjustments: log)
    }

    /// Mul of two tensors: `eltwise`, then the product shift fp_a + fp_b − fp_out kept in
    /// `mulShiftRange`. Above it the larger input fix_pos is lowered (both, for x · x) until it
    /// fits: the output cannot hold the inputs' finer bits anyway. Below it fp_out is lowered to
    /// fp_a + fp_b + 24, or, when its consumer needs at least `outputFloor` (a hard-sigmoid's
    /// input ≥ 0), fp_out is set to that and the smaller input fix_pos raised until it fits: the
    /// product is then saturated at the output anyway.
    public static func mul(_ op: OpFixPos, outputFloor: Int? = nil) -> Adjusted<OpFixPos> {
        var r = eltwise(op)
        guard r.positions.inputs.count == 2 else { return r }
        let before = r.positions
        let shift = before.inputs[0].fixPos + before.inputs[1].fixPos - before.output.fixPos
        let why = "mul shift fp_a + fp_b − fp_out = \(shift) outside [\(mulShiftRange.lowerBound), \(mulShiftRange.upperBound)]"
        var fp = before.inputs.map(\.fixPos), out = before.output.fixPos
        let same = before.inputs[0].name == before.inputs[1].name
        if shift < mulShiftRange.lowerBound {
            out = fp[0] + fp[1] - mulShiftRange.lowerBound
            if let floor = outputFloor, out < floor {
                out = floor
                while fp[0] + fp[1] - out < mulShiftRange.lowerBound {
                    if same { fp[0] += 1; fp[1] += 1 } else if fp[0] <= fp[1] { fp[0] += 1 } else { fp[1] += 1 }
                }
            }
        }
        while fp[0] + fp[1] - out > mulShiftRange.upperBound {
            if same { fp[0] -= 1; fp[1] -= 1 } else if fp[0] >= fp[1] { fp[0] -= 1 } else { fp[1] -= 1 }
        }
        for k in 0..<2 where fp[k] != r.positions.inputs[k].fixPos && !(same && k == 1) {
            set(&r.positions.inputs[k], fp[k], "mul_shift", why, &r.adjustments)
        }
        if same { r.positions.inputs[1].fixPos = fp[1] }
        set(&r.positions.output, out, "mul_shift", why, &r.adjustments)
        return r
    }

    /// Concat: every input and the output take the smallest fix_pos among them, so the DPU
    /// concat is a plain copy. A tensor with `bounds` (the range its producer or consumer op
    /// allows: a hard-sigmoid output ≥ 7, …) is kept inside them; the concat then requantizes
    /// that input to the output's fix_pos instead of copying it.
    public static func concat(_ op: OpFixPos, bounds: [String: ClosedRange<Int>] = [:]) -> Adjusted<OpFixPos> {
        align(op, rule: "concat", bounds: bounds)
    }

    /// Max / average pool: fp_out = fp_in, the smaller of the two (kept inside `bounds`, as `concat`).
    public static func pool(_ op: OpFixPos, bounds: [String: ClosedRange<Int>] = [:]) -> Adjusted<OpFixPos> {
        align(op, rule: "pool", bounds: bounds)
    }

    /// Hard-sigmoid: fp_in ≥ 0 and fp_out ≥ 7 (raised when below).
    public static func hardSigmoid(_ op: OpFixPos) -> Adjusted<OpFixPos> {
        var p = op
        var log = [FixPosAdjustment]()
        for k in p.inputs.indices where p.inputs[k].fixPos < 0 {
            set(&p.inputs[k], 0, "hard_sigmoid", "input fix_pos \(op.inputs[k].fixPos) < 0", &log)
        }
        if p.output.fixPos < 7 {
            set(&p.output, 7, "hard_sigmoid", "output fix_pos \(op.output.fixPos) < 7", &log)
        }
        return Adjusted(positions: p, adjustments: log)
    }

    /// Hard-swish: fp_in ≥ 0 (raised), then fp_out ≤ fp_in + 7 (lowered).
    public static func hardSwish(_ op: OpFixPos) -> Adjusted<OpFixPos> {
        var p = op
        var log = [FixPosAdjustment]()
        guard !p.inputs.isEmpty else { return Adjusted(positions: op, adjustments: []) }
        if p.inputs[0].fixPos < 0 {
            set(&p.inputs[0], 0, "hard_swish", "input fix_pos \(op.inputs[0].fixPos) < 0", &log)
        }
        let limit = p.inputs[0].fixPos + 7
        if p.output.fixPos > limit {
            set(&p.output, limit, "hard_swish", "output fix_pos \(op.output.fixPos) > fp_in + 7 = \(limit)", &log)
        }
        return Adjusted(positions: p, adjustments: log)
    }

    /// Sets every input and the output to the smallest fix_pos among them, each kept inside its
    /// `bounds` when it has some.
    private static func align(_ op: OpFixPos, rule: String, bounds: [String: ClosedRange<Int>] = [:]) -> Adjusted<OpFixPos> {
        var p = op
        var log = [FixPosAdjustment]()
        let m = (op.inputs.map(\.fixPos) + [op.output.fixPos]).min()!   // output always present
        let why = "\(rule) inputs and output must share one fix_pos; smallest is \(m)"
        func target(_ t: TensorFixPos) -> Int { bounds[t.name].map { min(max(m, $0.lowerBound), $0.upperBound) } ?? m }
        for k in p.inputs.indices {
            let v = target(p.inputs[k])
            set(&p.inputs[k], v, rule, v == m ? why : why + " (\(p.inputs[k].name) kept in \(bounds[p.inputs[k].name]!))", &log)
        }
        let v = target(p.output)
        set(&p.output, v, rule, v == m ? why : why + " (\(p.output.name) kept in \(bounds[p.output.name]!))", &log)
        return Adjusted(positions: p, adjustments: log)
    }

    /// Sets `t.fixPos` to `value` and logs it when it changes.
    private static func set(_ t: inout TensorFixPos, _ value: Int, _ rule: String, _ reason: String,
                            _ log: inout [FixPosAdjustment]) {
        guard t.fixPos != value else { return }
        log.append(FixPosAdjustment(rule: rule, tensor: t.name, old: t.fixPos, new: value, reason: reason))
        t.fixPos = value
    }
}
