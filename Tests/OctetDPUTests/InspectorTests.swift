import Foundation
import OctetGraph
import OctetTensor
import OctetTestSupport
import XCTest
@testable import OctetDPU

final class InspectorTests: XCTestCase {
    /// x → Conv(3×3) → BatchNormalization → Relu → Conv(1×1) → LeakyRelu(0.01).
    static func floatGraph() -> Graph {
        func t(_ shape: [Int], _ v: Float) -> Tensor { Tensor(shape: shape, floats: [Float](repeating: v, count: shape.reduce(1, *))) }
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "W", "b"], outputs: ["c"], attributes: ["pads": .ints([1, 1, 1, 1])]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "g", "be", "m", "v"], outputs: ["n"]),
            Node(name: "relu", opType: "Relu", inputs: ["n"], outputs: ["r"]),
            Node(name: "conv2", opType: "Conv", inputs: ["r", "W2"], outputs: ["d"]),
            Node(name: "leaky", opType: "LeakyRelu", inputs: ["d"], outputs: ["y"], attributes: ["alpha": .float(0.01)]),
        ]
        let inits = ["W": t([2, 2, 3, 3], 0.1), "b": t([2], 0), "g": t([2], 1), "be": t([2], 0.5), "m": t([2], 0), "v": t([2], 1),
                     "W2": t([2, 2, 1, 1], 0.5)]
        return Graph(name: "g", nodes: nodes, initializers: inits,
                     inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])],
                     outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])])
    }

    func testFloatGraphDevicesRulesPatternsAndPartition() throws {
        let r = try Inspector.inspect(Self.floatGraph(), target: .default)
        XCTAssertEqual(r.patterns.map(\.name), ["Conv+BN+ReLU"])
        XCTAssertEqual(r.patterns[0].nodes, ["conv", "bn", "relu"])
        XCTAssertEqual(r.node("conv")?.device, .dpu)
        XCTAssertEqual(r.node("conv")?.activation, .relu)
        XCTAssertEqual(r.node("conv2")?.device, .dpu, "a LeakyRelu of another slope does not fuse")
        XCTAssertEqual(r.node("leaky")?.message, "leaky: LeakyRelu alpha 0.01 is not the DPU's 26/256 (kept, computed in float on the CPU)")
        XCTAssertEqual(r.node("leaky")?.device, .cpu)
        XCTAssertEqual(r.subgraphs.map(\.device), [.dpu, .cpu])
        XCTAssertEqual(r.dpuSubgraphCount, 1); XCTAssertEqual(r.cpuSubgraphCount, 1)
        XCTAssertTrue(r.table.contains("Subgraphs: 2 (DPU 1, CPU 1)"), r.table)
    }

    /// A decomposed hard-swish (Add 3 → Clip 0..6 → Mul x → Div 6) becomes one HardSwish node: its
    /// inner Add → Clip is not listed as an Add+ReLU6 pattern, the Conv → Clip(0, 6) before it is.
    func testPatternsInsideARecognizedHardSwishAreLeftOut() throws {
        func s(_ v: Float) -> Tensor { Tensor(shape: [], floats: [v]) }
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "W"], outputs: ["c"]),
            Node(name: "relu6", opType: "Clip", inputs: ["c", "zero", "six"], outputs: ["r"]),
            Node(name: "add", opType: "Add", inputs: ["r", "three"], outputs: ["a"]),
            Node(name: "clip", opType: "Clip", inputs: ["a", "zero", "six"], outputs: ["k"]),
            Node(name: "mul", opType: "Mul", inputs: ["r", "k"], outputs: ["p"]),
            Node(name: "div", opType: "Div", inputs: ["p", "six"], outputs: ["y"]),
        ]
        let g = Graph(name: "g", nodes: nodes,
                      initializers: ["W": Tensor(shape: [2, 2, 1, 1], floats: [1, 0, 0, 1]), "zero": s(0), "three": s(3), "six": s(6)],
                      inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])])
        let r = try Inspector.inspect(g, target: .default)
        XCTAssertEqual(r.patterns.map(\.name), ["Conv+ReLU6"])
        XCTAssertEqual(r.node("div")?.opType, "HardSwish")
    }

    func testTargetsListAndLimits() throws {
        XCTAssertEqual(DPUTarget.all.map(\.name), ["DPUCZDX8G_ISA1_B4096", "DPUCZDX8G_ISA1_B1024", "DPUCZDX8G_ISA1_B512"])
        let t = try DPUTarget.named("dpuczdx8g_isa1_b4096")
        XCTAssertEqual(t.conv.kernel, 1...16); XCTAssertEqual(t.conv.stride, 1...8)
        XCTAssertEqual(t.alu.kernel, 1...256); XCTAssertEqual(t.alu.padTop, 0...15); XCTAssertEqual(t.alu.padRight, 0...255)
        XCTAssertEqual(t.bank("CONVW"), DPUTarget.Bank(name: "CONVW", count: 16, width: 16, depth: 2048))
        XCTAssertEqual(t.bank("DWCONVW")?.count, 1)
        XCTAssertEqual(t.peakOpsPerCycle, 4096)
        XCTAssertEqual(DPUTarget.dpuczdx8gISA1B1024.peakOpsPerCycle, 1024)
        XCTAssertEqual(DPUTarget.dpuczdx8gISA1B512.peakOpsPerCycle, 512)
        XCTAssertEqual(t.leakyReluAlpha, 0.1015625)
        XCTAssertTrue(t.limitsText.contains("conv engine: icp 16, ocp 16, pp 8; kernel 1..16, stride 1..8"), t.limitsText)
    }

    func testSmallerTargetRejectsWideLayers() throws {
        // 3000 input channels: within 256·16 = 4096 on B4096, above 256·8 = 2048 on B1024.
        let w = Tensor(shape: [4, 3000, 1, 1], floats: [Float](repeating: 0.01, count: 12000))
        let g = Graph(nodes: [Node(name: "wide", opType: "Conv", inputs: ["x", "W"], outputs: ["y"])], initializers: ["W": w],
                      inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(3000), .fixed(2), .fixed(2)])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.fixed(1), .fixed(4), .fixed(2), .fixed(2)])])
        XCTAssertEqual(try Inspector.inspect(g, target: .default).node("wide")?.device, .dpu)
        XCTAssertEqual(try Inspector.inspect(g, target: .dpuczdx8gISA1B1024).node("wide")?.message,
                       "wide: dilation · input channels = 3000 exceeds 256 · channel parallel = 2048")
    }

    /// The ALU pools undilated windows: a dilated MaxPool goes to the CPU, an undilated one stays.
    func testDilatedMaxPoolRunsOnTheCPU() throws {
        func pool(_ d: Int) -> Graph {
            Graph(nodes: [Node(name: "pool", opType: "MaxPool", inputs: ["x"], outputs: ["y"],
                               attributes: ["kernel_shape": .ints([2, 2]), "dilations": .ints([d, d])])],
                  initializers: [:], inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(6), .fixed(6)])],
                  outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(6 - d), .fixed(6 - d)])])
        }
        XCTAssertEqual(try Inspector.inspect(pool(1), target: .default).node("pool")?.device, .dpu)
        XCTAssertEqual(try Inspector.inspect(pool(2), target: .default).node("pool")?.message,
                       "pool: max pool with dilation 2x2 (the alu pools undilated windows)")
    }

    /// A HardSigmoid of other constants than the alu's, and a PRelu, run on the CPU; the reason
    /// says why, though `octet targets` lists hsigmoid and prelu among the alu types.
    func testFloatReasonsNameWhatDiffersFromTheEngine() throws {
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "W"], outputs: ["c"]),
            Node(name: "hs", opType: "HardSigmoid", inputs: ["c"], outputs: ["h"], attributes: ["alpha": .float(0.2)]),
            Node(name: "pr", opType: "PRelu", inputs: ["h", "slope"], outputs: ["y"]),
        ]
        let g = Graph(name: "g", nodes: nodes,
                      initializers: ["W": Tensor(shape: [2, 2, 1, 1], floats: [1, 0, 0, 1]), "slope": Tensor(shape: [2, 1, 1], floats: [0.25, 0.25])],
                      inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])])
        let r = try Inspector.inspect(g, target: .default)
        XCTAssertEqual(r.node("hs")?.reason,
                       "HardSigmoid is not a DPU operation here: the alu's hsigmoid is alpha 1/6, beta 1/2; this one has alpha 0.2, beta 0.5 (computed in float on dequantized values)")
        XCTAssertEqual(r.node("pr")?.reason,
                       "PRelu is not a DPU operation here: Octet does not emulate the alu's prelu arithmetic (computed in float on dequantized values)")
    }

    /// A MatMul of a 3-D input stays a float op (only 2-D input × constant 2-D weight becomes a
    /// fully connected layer); its reason says what the DPU takes.
    func testBatchedMatMulReasonSaysWhatTheDPUTakes() throws {
        let g = Graph(name: "g", nodes: [Node(name: "mm", opType: "MatMul", inputs: ["x", "W"], outputs: ["y"])],
                      initializers: ["W": Tensor(shape: [4, 3], floats: (0..<12).map { Float($0) / 12 })],
                      inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(4)])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(3)])])
        XCTAssertEqual(try Inspector.inspect(g, target: .default).node("mm")?.reason,
                       "MatMul is not a DPU operation here: the DPU runs it as a fully connected layer: a 2-D input, a constant 2-D weight used by no other node, a bias per output (computed in float on dequantized values)")
    }

    func testSharedModels() throws {
        for sm in try SharedModels.require() {
            let r = try Inspector.inspect(try Model.load(path: sm.modelPath).graph)
            XCTAssertGreaterThanOrEqual(r.dpuSubgraphCount, 1, sm.name)
            print("\(sm.name): \(r.dpuSubgraphCount) DPU / \(r.cpuSubgraphCount) CPU subgraphs; CPU: \(r.cpuMessages.prefix(4))")
            if sm.name == "mtcnn_pnet" {
                for n in r.nodes where n.opType == "PRelu" { XCTAssertEqual(n.device, .cpu); XCTAssertTrue(n.reason?.contains("PRelu") == true) }
            }
            if sm.name == "effnet_lite0" { XCTAssertEqual(r.cpuSubgraphCount, 0, r.cpuMessages.joined(separator: "\n")) }
        }
    }
}
