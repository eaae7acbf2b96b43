import OctetTensor

/// Where a node runs on a DPU deployment.
public enum QuantDevice: String, Sendable, Codable, Equatable { case dpu, cpu }

/// Activation fused into a Conv / ConvTranspose / Gemm (or Add) group: one output quantizer
/// for the group (vai_q_pytorch soft fusion, reference-quantizer §1.2). `leakyRelu` is the DPU's
/// slope 26/256.
public enum FusedActivation: String, Sendable, Codable, Equatable {
    case none, relu, relu6
    case leakyRelu = "leaky_relu"
}

/// How a node is computed in the quantized model.
public enum QuantOpKind: String, Sendable, Codable, Equatable {
    /// Conv / ConvTranspose / Gemm on int8 input, weight and bias with DPU requantization.
    case conv
    /// Relu / Relu6 / LeakyRelu absorbed into its producer's group (no own quantizer).
    case fused
    /// Element-wise Add / Mul of int8 tensors.
    case add, mul
    /// Concat: inputs share the output fix_pos.
    case concat
    /// Data movement (Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Slice, Pad, MaxPool,
    /// nearest Resize): the output keeps the input's fix_pos.
    case passThrough = "pass_through"
    /// AveragePool / GlobalAveragePool / ReduceMean over H, W as `sum · N / 2^M`.
    case averagePool = "average_pool"
    /// Standalone Relu / Relu6 / LeakyRelu with its own output quantizer.
    case activation
    /// DPU hard-sigmoid `relu6(x + 3) · 2731 / 2^14`.
    case hardSigmoid = "hard_sigmoid"
    /// DPU hard-swish `x · Q₇(hsig(x))`.
    case hardSwish = "hard_swish"
    /// Computed in float between a dequantized input and a quantized output (CPU).
    case float
    /// Excluded by configuration: float in, float out (CPU).
    case excluded
    /// Integer or shape computation that carries no real-valued data.
    case nonFloat = "non_float"
}

/// Quantization facts about one node of the prepared graph.
public struct QuantNodeAnnotation: Sendable, Codable, Equatable {
    /// Node name (its first output when the node is unnamed).
    public var node: String
    public var opType: String
    public var kind: QuantOpKind
    public var device: QuantDevice
    /// Fused activation of a conv group or an Add group; the standalone activation's function.
    public var activation: FusedActivation?
    /// Weight and bias initializer names of a conv group.
    public var weight: String?
    public var bias: String?
    /// Quantized tensor the node's group writes (for a conv group: the fused activation's output).
    public var output: String?
    /// Average-pool factor [N, M] (`sum · N / 2^M`).
    public var avgPoolFactor: [Int]?

    public init(node: String, opType: String, kind: QuantOpKind, device: QuantDevice) {
        self.node = node; self.opType = opType; self.kind = kind; self.device = device
    }
}

/// One fix_pos change made by a DPU constraint (mirror of OctetQuant's `FixPosAdjustment`).
public struct QuantAdjustment: Sendable, Codable, Equatable, CustomStringConvertible {
    public var rule: String
    public var tensor: String
    public var old: Int
    public var new: Int
    public var reason: String
    public init(rule: String, tensor: String, old: Int, new: Int, reason: String) {
        self.rule = rule; self.tensor = tensor; self.old = old; self.new = new; self.reason = reason
    }
    public var description: String { "\(rule): \(tensor) fix_pos \(old) → \(new) (\(reason))" }
}

/// The quantization parameters of a prepared graph: what is saved as JSON and what the DPU
/// compiler reads. Every quantized tensor (network inputs, weights, biases, group outputs and
/// their aliases) has an entry in `tensors`; `shares` maps an alias to the tensor whose
/// fix_pos it uses (pass-through outputs, Concat producers).
public struct QuantAnnotations: Sendable, Codable, Equatable {
    public var tensors: [String: QuantParams]
    public var shares: [String: String]
    /// One entry per node, in graph order.
    public var nodes: [QuantNodeAnnotation]
    public var adjustments: [QuantAdjustment]
    /// The configuration as option name → value.
    public var config: [String: String]
    public var warnings: [String]
    /// Shape of every quantized tensor at the graph's batch size: the model fingerprint
    /// checked when parameters are loaded against a model.
    public var shapes: [String: [Int]]

    public init(tensors: [String: QuantParams] = [:], shares: [String: String] = [:], nodes: [QuantNodeAnnotation] = [],
                adjustments: [QuantAdjustment] = [], config: [String: String] = [:], warnings: [String] = [],
                shapes: [String: [Int]] = [:]) {
        self.tensors = tensors; self.shares = shares; self.nodes = nodes; self.adjustments = adjustments
        self.config = config; self.warnings = warnings; self.shapes = shapes
    }

    /// fix_pos of a power-of-two quantized tensor.
    public func fixPos(_ tensor: String) -> Int? { tensors[tensor]?.fixPos }

    /// True when every tensor is DPU int8 power-of-two per tensor and no node was excluded.
    public var isDPUDeployable: Bool {
        tensors.values.allSatisfy(\.isDPUDeployable) && !nodes.contains { $0.kind == .excluded }
    }
}

/// A prepared float graph together with its quantization annotations.
public struct QuantizedGraph: Sendable {
    public var graph: Graph
    public var annotations: QuantAnnotations
    public init(graph: Graph, annotations: QuantAnnotations) {
        self.graph = graph
        self.annotations = annotations
    }
}
