import Foundation
import OctetGraph
import OctetTensor

/// Export of a quantized model as a standard ONNX QDQ model (ONNX opset ≥ 13, IR 7), as
/// vai_q_pytorch's `export_onnx_model(native_onnx=True)` writes it (reference-quantizer §10.4).
///
/// What is written (the prepared graph: BatchNorm folded, MatMul → Gemm, …):
/// - every quantized activation (network inputs, group outputs, pass-through aliases) is
///   followed by `QuantizeLinear` → `DequantizeLinear`, int8, zero point 0, scale 2^−fix_pos;
///   the DequantizeLinear output keeps the tensor's name, so graph outputs keep theirs;
/// - weights, biases and constant operands are int8 initializers `<name>_quantized` (the
///   integer evaluation's codes) followed by `DequantizeLinear`; codes wider than 8 bits are int32,
///   except a bias's, which stays float (its dequantized codes; see `addParameter`);
/// - fused activations stay as their own ops between the Conv / Gemm / Add and the output Q/DQ;
/// - DPU arithmetic with standard ops: LeakyRelu alpha 26/256 = 0.1015625; `Mul` by the
///   average-pool factor k·N/2^M after AveragePool (count_include_pad = 1) / GlobalAveragePool /
///   ReduceMean; hard-sigmoid as `Mul(Clip(Add(x, 3), 0, 6), 2731/16384)`; hard-swish as
///   `x · Q/DQ₇(hard-sigmoid(x))` (intermediate Q/DQ at fix_pos 7);
/// - non-DPU configurations: per-channel weights as per-axis DequantizeLinear (`axis`), float
///   scales and zero points as they are (uint8 for unsigned activations).
///
/// QuantizeLinear rounds half to even; the DPU rounds half up, so exact .5 ties differ by one
/// LSB. Ties are common on the DPU (e.g. inputs (u8 − 127.5)/128 at fix_pos 7 are all ties), so
/// `Ties.halfUp` writes `Add(x, 2^−17 · scale)` before each activation QuantizeLinear: for values
/// on a grid of 2^−16 LSB or coarser (every DPU requantization, shift ≤ 16) half to even of
/// x/scale + 2^−17 equals half up of x/scale, and x + 2^−17·scale is exact in float32 for
/// |x/scale| < 128 (docs/file-formats.md, "ONNX QDQ export").
public enum QDQExport {
    /// How exact .5 ties of activations round in the exported graph.
    public enum Ties: String, Sendable, CaseIterable {
        /// Plain QDQ: QuantizeLinear's round half to even (onnxruntime fuses it into QLinear ops).
        case halfEven = "half-even"
        /// DPU rounding (half up) through a 2^−17-LSB `Add` before each activation QuantizeLinear.
        case halfUp = "half-up"
    }

    /// - Throws: `OctetQuantError.invalidParameter` for a model the ONNX QuantizeLinear cannot
    ///   express (opset < 13, activations wider than 8 bits), naming the tensor.
    public static func graph(_ model: QuantizedModel, ties: Ties = .halfEven) throws -> Graph {
        var b = try QDQBuilder(model, ties: ties)
        return try b.build()
    }

    /// What the export refuses whatever the calibration finds: activations wider than 8 bits
    /// (ONNX QuantizeLinear is 8-bit) and a model below opset 13 (per-axis QuantizeLinear).
    /// Callers check it before calibrating; `graph(_:)` refuses the same per tensor.
    /// - Throws: `OctetQuantError.invalidParameter` naming the option, `.notExportable` naming the opset.
    public static func checkExportable(_ config: QConfig, opset: Int? = nil) throws {
        if config.activationBits != 8 {
            throw OctetQuantError.invalidParameter("QDQ export: activations are \(config.activationBits)-bit (activation_bits or bits); ONNX QuantizeLinear is 8-bit only")
        }
        if let opset, opset < 13 {
            throw OctetQuantError.notExportable("QDQ export needs a model at opset ≥ 13 (per-axis QuantizeLinear); this one has opset \(opset)")
        }
    }

    /// The QDQ model as ONNX bytes.
    public static func data(_ model: QuantizedModel, ties: Ties = .halfEven) throws -> Data {
        let g = try graph(model, ties: ties)
        return try ONNXExporter.data(g, opset: g.opset, irVersion: ONNXExporter.minimumIRVersion(opset: g.opset))
    }

    /// Writes the QDQ model to `path` atomically.
    /// - Throws: as `graph(_:)`, and `OctetTensorError.writeFailed` naming the path.
    public static func write(_ model: QuantizedModel, to path: String, ties: Ties = .halfEven) throws {
        try AtomicFile.write(try data(model, ties: ties), to: path)
    }

    /// The nudge `Ties.halfUp` adds before QuantizeLinear, in LSB: 2^−17.
    public static let halfUpNudge: Float = 1.0 / 131_072

    /// Names of the tensors the export adds around a quantized tensor `t` (a name the model
    /// already uses gets `_2`, `_3`, … instead).
    public static func quantizedName(_ t: String) -> String { "\(t)_quantized" }
    public static func scaleName(_ t: String) -> String { "\(t)_scale" }
    public static func zeroPointName(_ t: String) -> String { "\(t)_zero_point" }
    /// The float tensor before its QuantizeLinear (the producer's renamed output).
    public static func floatName(_ t: String) -> String { "\(t)_float" }
    /// The nudged tensor `Ties.halfUp` quantizes, and its constant.
    public static func nudgedName(_ t: String) -> String { "\(t)_half_up" }
    public static func nudgeName(_ t: String) -> String { "\(t)_half_up_nudge" }
}

/// Builds the QDQ graph node by node.
struct QDQBuilder {
    let model: QuantizedModel
    let source: Graph
    let ann: QuantAnnotations
    let ties: QDQExport.Ties
    var nodes: [Node] = []
    var initializers: [String: Tensor]
    /// Graph-input tensors read through their DequantizeLinear output.
    var renames: [String: String] = [:]
    /// Every tensor name in use: the source graph's and the ones added (`fresh`).
    var taken: Set<String>
    /// Every node name in use (`freshNode`).
    var takenNodes: Set<String>

    init(_ model: QuantizedModel, ties: QDQExport.Ties) throws {
        self.model = model
        self.ties = ties
        source = model.graph
        ann = model.annotations
        initializers = source.initializers
        taken = Set(source.initializers.keys).union(source.inputs.map(\.name)).union(source.outputs.map(\.name))
            .union(source.nodes.flatMap { $0.inputs + $0.outputs })
        takenNodes = Set(source.nodes.map(\.name))
        try QDQExport.checkExportable(model.config, opset: source.opset)
    }

    mutating func build() throws -> Graph {
        for name in ann.tensors.keys.sorted() where isParameter(name) { try addParameter(name) }
        for input in source.inputs where ann.tensors[input.name] != nil {
            let dq = fresh("\(input.name)_dequantized")
            nodes += try qdqNodes(input.name, from: input.name, to: dq, params: ann.tensors[input.name]!)
            renames[input.name] = dq
        }
        for (i, n) in source.nodes.enumerated() {
            var node = n
            node.inputs = n.inputs.map { renames[$0] ?? $0 }
            var out = try rewrite(node, model.plan.nodes[i])
            var pending: [(t: String, float: String)] = []
            for t in n.outputs where !t.isEmpty && ann.tensors[t] != nil && !isParameter(t) {
                guard let j = out.lastIndex(where: { $0.outputs.contains(t) }) else { continue }
                let float = fresh(QDQExport.floatName(t))
                out[j].outputs = out[j].outputs.map { $0 == t ? float : $0 }
                pending.append((t, float))
            }
            nodes += out
            for (t, float) in pending { nodes += try qdqNodes(t, from: float, to: t, params: ann.tensors[t]!) }
        }
        let used = Set(nodes.flatMap(\.inputs)).union(source.outputs.map(\.name))
        var g = source
        g.name = source.name.isEmpty ? "octet_qdq" : source.name
        g.nodes = nodes
        g.initializers = initializers.filter { used.contains($0.key) }
        // An output the source left unshaped gets its rank (batch axis unknown), not rank 0.
        for (i, o) in g.outputs.enumerated() where o.dims.isEmpty {
            if let s = ann.shapes[o.name], !s.isEmpty { g.outputs[i].dims = [.symbolic("")] + s.dropFirst().map { .fixed($0) } }
        }
        g.opset = max(source.opset, 13)
        g.irVersion = ONNXExporter.minimumIRVersion(opset: g.opset)
        return g
    }

    /// `base`, or `base_2`, `base_3`, … when the name is in use; the name is taken from then on.
    mutating func fresh(_ base: String) -> String {
        var name = base, k = 2
        while taken.contains(name) { name = "\(base)_\(k)"; k += 1 }
        taken.insert(name)
        return name
    }

    /// A node name as `fresh` gives tensor names (onnxruntime refuses two nodes of one name).
    mutating func freshNode(_ base: String) -> String {
        var name = base, k = 2
        while takenNodes.contains(name) { name = "\(base)_\(k)"; k += 1 }
        takenNodes.insert(name)
        return name
    }

    /// A weight, bias or constant operand: a float initializer with quantization parameters.
    func isParameter(_ t: String) -> Bool {
        model.plan.parameters[t] != nil && source.initializers[t]?.dtype == .float32
    }

    /// Q then DQ of activation `t` (params `q`), reading `from` and writing `to`.
    mutating func qdqNodes(_ t: String, from: String, to: String, params q: QuantParams) throws -> [Node] {
        guard q.bits == 8 else {
            throw OctetQuantError.invalidParameter("QDQ export: activation '\(t)' is \(q.bits)-bit; ONNX QuantizeLinear is 8-bit only")
        }
        let key = t
        let (scale, zp, axis) = try scaleAndZeroPoint(q, codeType: q.signed ? .int8 : .uint8)
        let scaleName = fresh(QDQExport.scaleName(key)), zpName = fresh(QDQExport.zeroPointName(key))
        initializers[scaleName] = scale
        initializers[zpName] = zp
        let attrs: [String: Attribute] = axis.map { ["axis": .int($0)] } ?? [:]
        let qName = fresh(QDQExport.quantizedName(key))
        var nudge: [Node] = [], qInput = from
        if ties == .halfUp {
            let delta = scale.floats.map { $0 * QDQExport.halfUpNudge }
            let nudgeName = fresh(QDQExport.nudgeName(key))
            initializers[nudgeName] = Tensor(shape: delta.count == 1 ? [] : scale.shape, floats: delta)
            qInput = fresh(QDQExport.nudgedName(key))
            nudge = [Node(name: freshNode("\(key)_half_up"), opType: "Add", inputs: [from, nudgeName], outputs: [qInput])]
        }
        return nudge + [Node(name: freshNode("\(key)_QuantizeLinear"), opType: "QuantizeLinear",
                     inputs: [qInput, scaleName, zpName], outputs: [qName], attributes: attrs),
                Node(name: freshNode("\(key)_DequantizeLinear"), opType: "DequantizeLinear",
                     inputs: [qName, scaleName, zpName], outputs: [to], attributes: attrs)]
    }

    /// Integer initializer `<p>_quantized` and its DequantizeLinear writing `p`. A bias wider
    /// than 8 bits stays a float initializer holding its dequantized codes: onnxruntime fuses
    /// DequantizeLinear → Conv → QuantizeLinear into QLinearConv, which reads an int32 bias at
    /// scale x_scale · w_scale (ONNX QLinearConv), not at the bias's own fix_pos.
    mutating func addParameter(_ p: String) throws {
        let q = ann.tensors[p]!
        let codes = try QDQParameters.codes(model, p, q)
        if model.plan.parameters[p] == true, codes.dtype == .int32 {
            let (scales, _, inner) = QDQParameters.channelPlan(q, shape: codes.shape)
            let c = codes.int32s
            initializers[p] = Tensor(shape: codes.shape, floats: c.indices.map { i in
                Float(c[i]) * scales[scales.count == 1 ? 0 : (i / inner) % scales.count]
            })
            return
        }
        let (scale, zp, axis) = try scaleAndZeroPoint(q, codeType: codes.dtype)
        initializers[p] = nil
        let names = [QDQExport.quantizedName(p), QDQExport.scaleName(p), QDQExport.zeroPointName(p)].map { fresh($0) }
        for (name, t) in zip(names, [codes, scale, zp]) { initializers[name] = t }
        nodes.append(Node(name: freshNode("\(p)_DequantizeLinear"), opType: "DequantizeLinear", inputs: names,
                          outputs: [p], attributes: axis.map { ["axis": .int($0)] } ?? [:]))
    }

    /// Scale (float) and zero point (`codeType`) tensors: scalars, or 1-D with the channel axis.
    func scaleAndZeroPoint(_ q: QuantParams, codeType: DType) throws -> (Tensor, Tensor, Int?) {
        func zpTensor(_ v: [Int], shape: [Int]) -> Tensor {
            switch codeType {
            case .uint8: return Tensor(shape: shape, uint8s: v.map { UInt8(clamping: $0) })
            case .int32: return Tensor(shape: shape, int32s: v.map { Int32(clamping: $0) })
            default: return Tensor(shape: shape, int8s: v.map { Int8(clamping: $0) })
            }
        }
        guard let ch = q.channels else {
            return (Tensor(scalar: q.scale), zpTensor([q.zeroPoint], shape: []), nil)
        }
        let n = ch.scales.count
        return (Tensor(shape: [n], floats: ch.scales), zpTensor(ch.zeroPoints, shape: [n]), ch.axis)
    }
}
