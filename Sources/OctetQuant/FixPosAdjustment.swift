/// One fix_pos change made by a DPU constraint rule (for reports and `quant_info` audits).
public struct FixPosAdjustment: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Rule name: shift_cut, shift_bias, shift_read, shift_write, concat, pool, hard_sigmoid, hard_swish.
    public var rule: String
    /// Name of the tensor whose fix_pos changed.
    public var tensor: String
    public var old: Int
    public var new: Int
    /// Why, with the offending value and its allowed range.
    public var reason: String

    public init(rule: String, tensor: String, old: Int, new: Int, reason: String) {
        self.rule = rule
        self.tensor = tensor
        self.old = old
        self.new = new
        self.reason = reason
    }

    public var description: String { "\(rule): \(tensor) fix_pos \(old) → \(new) (\(reason))" }
}

/// A tensor name with its fix_pos.
public struct TensorFixPos: Sendable, Codable, Equatable {
    public var name: String
    public var fixPos: Int
    public init(_ name: String, _ fixPos: Int) {
        self.name = name
        self.fixPos = fixPos
    }
}

/// Fix positions around a Conv / Gemm node.
public struct ConvFixPos: Sendable, Codable, Equatable {
    public var input: TensorFixPos
    public var weight: TensorFixPos
    public var bias: TensorFixPos?
    public var output: TensorFixPos
    public init(input: TensorFixPos, weight: TensorFixPos, bias: TensorFixPos?, output: TensorFixPos) {
        self.input = input
        self.weight = weight
        self.bias = bias
        self.output = output
    }
    /// fp_w + fp_in − fp_out.
    public var shiftCut: Int { weight.fixPos + input.fixPos - output.fixPos }
    /// fp_w + fp_in − fp_b (nil without bias).
    public var shiftBias: Int? { bias.map { weight.fixPos + input.fixPos - $0.fixPos } }
}

/// Fix positions of a node's activation inputs and its output.
public struct OpFixPos: Sendable, Codable, Equatable {
    public var inputs: [TensorFixPos]
    public var output: TensorFixPos
    public init(inputs: [TensorFixPos], output: TensorFixPos) {
        self.inputs = inputs
        self.output = output
    }
}

/// Positions after a rule plus the changes it made (empty when nothing changed).
public struct Adjusted<Positions: Sendable & Equatable>: Sendable, Equatable {
    public var positions: Positions
    public var adjustments: [FixPosAdjustment]
}
