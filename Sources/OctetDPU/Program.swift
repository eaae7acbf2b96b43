import OctetGraph
import OctetTensor

/// What one instruction computes. Integer kinds run in DPU (or CPU `-fix` reference) integer
/// arithmetic; `.float` runs a float kernel on dequantized values; `.fused` is absorbed into its
/// producer's instruction. See docs/dpu.md for each integer form.
public enum InstructionKind: String, Sendable, CaseIterable {
    case conv
    case depthwiseConv = "depthwise_conv"
    case transposedConv = "transposed_conv"
    case fullyConnected = "fully_connected"
    case maxPool = "max_pool"
    case avgPool = "avg_pool"
    case add, mul, concat
    case upsample
    case activation
    case hardSigmoid = "hard_sigmoid"
    case hardSwish = "hard_swish"
    /// Pure data movement on int8 codes (Reshape, Flatten, Transpose, Slice, Pad, Split, …).
    case move
    case float
    case fused
}

/// One compiled node: its kind, device, operands and the shifts of its integer form.
public struct Instruction: Sendable, Equatable {
    /// Node key (name, or first output when unnamed) and its index in `Program.graph.nodes`.
    public var node: String
    public var nodeIndex: Int
    public var opType: String
    public var kind: InstructionKind
    public var device: QuantDevice
    /// Tensor the instruction writes (a conv group's fused activation output); nil for `.fused`,
    /// and for `.move` / `.float` every node output is written.
    public var output: String?
    public var weight: String?
    public var bias: String?
    public var activation: FusedActivation
    /// Conv family: shift_cut = fp_in + fp_w − fp_out; shift_bias = fp_in + fp_w − fp_b.
    public var shiftCut: Int?
    public var shiftBias: Int?
    /// Average pool multiplier N and shift M (`sum · N / 2^M`).
    public var poolMultiplier: Int?
    public var poolShift: Int?
    /// Add / Mul: shift_read = max(fp_in) − min(fp_in), shift_write = min(fp_in) − fp_out.
    public var shiftRead: Int?
    public var shiftWrite: Int?
    /// Why the node runs on the CPU (the inspector's rule).
    public var reason: String?

    public init(node: String, nodeIndex: Int, opType: String, kind: InstructionKind, device: QuantDevice) {
        self.node = node; self.nodeIndex = nodeIndex; self.opType = opType; self.kind = kind; self.device = device
        activation = .none
    }
}

/// A maximal run of instructions on one device, in execution order.
public struct ProgramSubgraph: Sendable, Equatable {
    public var device: QuantDevice
    /// Indices into `Program.instructions`.
    public var instructions: [Int]
    /// Tensors read from outside the subgraph (CPU side: dequantized at the boundary).
    public var inputs: [String]
    /// Tensors used outside the subgraph or graph outputs (CPU side: re-quantized at the boundary).
    public var outputs: [String]
}

/// A compiled DPU program: the prepared graph (float constants kept for CPU instructions and
/// float dumps), int8 weights / biases / constant operands, the fix_pos of every quantized
/// tensor, one instruction per node and the DPU/CPU partition.
public struct Program: Sendable, Equatable {
    /// Version of the program file format this build writes (see ProgramFile).
    public static let formatVersion = 1

    public var target: String
    public var graph: Graph
    /// fix_pos of every quantized tensor (aliases resolved): value = code · 2^−fix_pos.
    public var fixPos: [String: Int]
    /// int8 codes of weights, biases and constant operands.
    public var constants: [String: Tensor]
    public var instructions: [Instruction]
    public var subgraphs: [ProgramSubgraph]
    /// Batch size the graph's shapes are specialised to; the emulator chunks any batch by it.
    public var batchSize: Int

    public init(target: String, graph: Graph, fixPos: [String: Int], constants: [String: Tensor],
                instructions: [Instruction], subgraphs: [ProgramSubgraph], batchSize: Int) {
        self.target = target; self.graph = graph; self.fixPos = fixPos; self.constants = constants
        self.instructions = instructions; self.subgraphs = subgraphs; self.batchSize = batchSize
    }

    public var dpuSubgraphCount: Int { subgraphs.filter { $0.device == .dpu }.count }
    public var cpuSubgraphCount: Int { subgraphs.filter { $0.device == .cpu }.count }

    /// Multiply-accumulates of one sample in the conv-family instructions (`ConvGeometry.macs`).
    public func macsPerSample() throws -> Int {
        let info = try TensorInfo(graph: graph)
        var total = 0
        for ins in instructions where [.conv, .depthwiseConv, .transposedConv, .fullyConnected].contains(ins.kind) {
            let n = graph.nodes[ins.nodeIndex]
            guard let x = info.shapes[n.inputs[0]], x.count >= 2, let w = info.shapes[n.inputs[1]] else { continue }
            switch ins.kind {
            case .fullyConnected: total += w[0] * w[1]
            case .transposedConv: total += try NodeGeometry.convTranspose(n, input: x, weight: w).macs
            default: total += try NodeGeometry.conv(n, input: x, weight: w).macs
            }
        }
        return total
    }
}
