import Foundation
import OctetGraph
import OctetTensor
import XCTest
@testable import OctetDPU

/// A Conv(1×1)+Relu → Add(residual) → GlobalAveragePool chain whose int8 values are worked out by hand.
///
/// fix_pos: x 2, W 6, B 7, r (conv+relu output) 4, s (add output) 3, y (pool output) 2.
/// x = [0.5, −0.75, 1.25, 0.25] → codes [2, −3, 5, 1]; W = 1.5 → 96; B = −0.28125 → −36.
/// Conv: shift_cut = 2 + 6 − 4 = 4, shift_bias = 2 + 6 − 7 = 1.
///   acc = x · 96 = [192, −288, 480, 96]; v = acc + (−36 · 2^1) = [120, −360, 408, 24];
///   relu → [120, 0, 408, 24]; DPU_ROUND(v / 2^4) = [7.5 → 8, 0, 25.5 → 26, 1.5 → 2] (ties go up).
/// Add (eltwise-fix): fp_max = 4, x aligned ×2^2 = [8, −12, 20, 4]; sum = [16, −12, 46, 6];
///   × 2^(3 − 4): [8, −6, 23, 3].
/// GlobalAveragePool 2×2: N/2^M = 1/2^2 (exact for k = 4); Σ = 28;
///   y = DPU_ROUND(28 · 1 / 2^(2 + 3 − 2)) = DPU_ROUND(3.5) = 4 (real 1.0).
final class HandBuiltChainTests: XCTestCase {
    static func chain(outFixPos: Int = 4, kernel: Int = 1) throws -> QuantizedGraph {
        let w = Tensor(shape: [1, 1, kernel, kernel], floats: [Float](repeating: 1.5, count: kernel * kernel))
        let pad = (kernel - 1) / 2
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "W", "B"], outputs: ["c"],
                 attributes: ["pads": .ints([pad, pad, kernel - 1 - pad, kernel - 1 - pad])]),
            Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["r"]),
            Node(name: "add", opType: "Add", inputs: ["r", "x"], outputs: ["s"]),
            Node(name: "gap", opType: "GlobalAveragePool", inputs: ["s"], outputs: ["y"]),
        ]
        let g = Graph(name: "chain", nodes: nodes, initializers: ["W": w, "B": Tensor(shape: [1], floats: [-0.28125])],
                      inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(1), .fixed(2), .fixed(2)])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.symbolic("N"), .fixed(1), .fixed(1), .fixed(1)])])
        var conv = QuantNodeAnnotation(node: "conv", opType: "Conv", kind: .conv, device: .dpu)
        conv.weight = "W"; conv.bias = "B"; conv.activation = .relu; conv.output = "r"
        var relu = QuantNodeAnnotation(node: "relu", opType: "Relu", kind: .fused, device: .dpu)
        relu.output = "r"; relu.activation = .relu
        var add = QuantNodeAnnotation(node: "add", opType: "Add", kind: .add, device: .dpu)
        add.output = "s"
        var gap = QuantNodeAnnotation(node: "gap", opType: "GlobalAveragePool", kind: .averagePool, device: .dpu)
        gap.output = "y"; gap.avgPoolFactor = [1, 2]
        var tensors: [String: QuantParams] = [:]
        for (t, f) in [("x", 2), ("W", 6), ("B", 7), ("r", outFixPos), ("s", 3), ("y", 2)] { tensors[t] = try QuantParams.dpu(fixPos: f) }
        let ann = QuantAnnotations(tensors: tensors, nodes: [conv, relu, add, gap], config: ["weight_round": "std_round"])
        return QuantizedGraph(graph: g, annotations: ann)
    }

    static let x = Tensor(shape: [1, 1, 2, 2], floats: [0.5, -0.75, 1.25, 0.25])

    func testHandWorkedInt8Values() throws {
        let p = try Compiler.compile(try Self.chain())
        XCTAssertEqual(p.constants["W"]?.int8s, [96])
        XCTAssertEqual(p.constants["B"]?.int8s, [-36])
        let conv = p.instructions[0]
        XCTAssertEqual(conv.kind, .conv); XCTAssertEqual(conv.shiftCut, 4); XCTAssertEqual(conv.shiftBias, 1)
        XCTAssertEqual(p.instructions[2].shiftRead, 2); XCTAssertEqual(p.instructions[2].shiftWrite, -1)
        let run = try Emulator(program: p).run(["x": Self.x], capture: true)
        XCTAssertEqual(run.tensors["x"]?.codes.int8s, [2, -3, 5, 1])
        XCTAssertEqual(run.tensors["r"]?.codes.int8s, [8, 0, 26, 2])
        XCTAssertEqual(run.tensors["s"]?.codes.int8s, [8, -6, 23, 3])
        XCTAssertEqual(run.tensors["y"]?.codes.int8s, [4])
        XCTAssertEqual(run.outputs["y"]?.floats, [1.0])
        XCTAssertEqual(p.dpuSubgraphCount, 1); XCTAssertEqual(p.cpuSubgraphCount, 0)
    }

    /// A graph output that is a constant (onnxruntime runs such models) comes out as the constant.
    func testConstantGraphOutput() throws {
        let q = try Self.chain()
        var g = q.graph
        g.initializers["k"] = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        g.outputs.append(ValueInfo(name: "k", dtype: .float32, dims: [.fixed(2), .fixed(2)]))
        let out = try Emulator(program: try Compiler.compile(QuantizedGraph(graph: g, annotations: q.annotations))).run(["x": Self.x]).outputs
        XCTAssertEqual(out["k"]?.floats, [1, 2, 3, 4])
        XCTAssertEqual(out["y"]?.floats, [1.0])
        let three = try Emulator(program: try Compiler.compile(QuantizedGraph(graph: g, annotations: q.annotations)))
            .run(["x": TensorBatch.concat([Self.x, Self.x, Self.x])], capture: true)
        XCTAssertEqual(three.outputs["k"]?.shape, [2, 2])   // once, though the batch-1 program runs three chunks
        XCTAssertEqual(three.outputs["y"]?.floats, [1.0, 1.0, 1.0])
    }

    func testAnyBatchSizeEqualsPerSampleRuns() throws {
        let e = try Emulator(program: try Compiler.compile(try Self.chain()))
        let xs = Tensor(shape: [3, 1, 2, 2], floats: [0.5, -0.75, 1.25, 0.25, -1, 2, 0.125, 3, 0.7, -0.2, 1.9, -2])
        let all = try e.run(["x": xs], capture: true)
        XCTAssertEqual(all.outputs["y"]?.shape, [3, 1, 1, 1])
        for i in 0..<3 {
            let one = try e.run(["x": TensorBatch.slice(xs, start: i, count: 1, padTo: 1)], capture: true)
            XCTAssertEqual(one.tensors["s"]?.codes.int8s, Array(all.tensors["s"]!.codes.int8s[(4 * i)..<(4 * i + 4)]))
        }
        XCTAssertEqual(all.tensors["y"]?.codes.int8s.first, 4)
    }

    /// A program output whose batch is not axis 0 (a Transpose on the CPU, declared without the batch)
    /// comes out as computed for a run of one batch, is refused when the run is cut into chunks, and
    /// does not stop another output from being asked for.
    func testOutputWithoutTheBatchOnAxisZeroIsRefusedWhenChunked() throws {
        var q = try Self.chain()
        q.graph.nodes.append(Node(name: "tr", opType: "Transpose", inputs: ["s"], outputs: ["t"], attributes: ["perm": .ints([2, 0, 1, 3])]))
        q.graph.outputs.append(ValueInfo(name: "t", dtype: .float32, dims: [.fixed(2), .fixed(1), .fixed(1), .fixed(2)]))
        q.annotations.nodes.append(QuantNodeAnnotation(node: "tr", opType: "Transpose", kind: .float, device: .cpu))
        let e = try Emulator(program: try Compiler.compile(q))
        XCTAssertEqual(try e.run(["x": Self.x], capture: true).outputs["t"]?.shape, [2, 1, 1, 2])
        XCTAssertThrowsError(try e.run(["x": TensorBatch.concat([Self.x, Self.x])], capture: true)) { error in
            XCTAssertTrue("\(error)".contains("output 't' [2, 1, 1, 2] depends on the batch as a whole"), "\(error)")
        }
        XCTAssertEqual(try e.run(["x": TensorBatch.concat([Self.x, Self.x])], capture: true, outputs: ["y"]).outputs["y"]?.shape, [2, 1, 1, 1])
    }

    func testShiftCutOutsideRangeIsRejectedNamingTheNode() throws {
        // fp_out 12: shift_cut = 2 + 6 − 12 = −4.
        XCTAssertThrowsError(try Compiler.compile(try Self.chain(outFixPos: 12))) { e in
            XCTAssertEqual(e as? OctetDPUError, .shiftOutOfRange(node: "conv", shift: "shift_cut (fp_in + fp_w − fp_out)", value: -4, range: 0...16))
            XCTAssertTrue("\(e)".hasPrefix("conv: shift_cut"), "\(e)")
        }
    }

    /// A tensor with a scale that is not a power of two (an MSE observer's, say) cannot be deployed.
    func testNonPowerOfTwoScaleIsNotDeployable() throws {
        var q = try Self.chain()
        q.annotations.tensors["s"] = try QuantParams(scale: 0.1)
        XCTAssertThrowsError(try Compiler.compile(q)) { e in
            XCTAssertEqual("\(e)", "not deployable on the DPU: tensor 's' has int8 scale 0.1 zero_point 0; the DPU needs 8-bit signed per-tensor power-of-two")
        }
    }

    func testKernelLimitSendsConvToCPUAndForcingItFails() throws {
        let q = try Self.chain(kernel: 17)
        let r = try Inspector.inspect(q, target: .default)
        XCTAssertEqual(r.node("conv")?.message, "conv: kernel 17x17 exceeds conv kernel limit 1..16")
        XCTAssertEqual(r.node("conv")?.device, .cpu)
        XCTAssertEqual(r.node("relu")?.device, .cpu)
        XCTAssertEqual(r.subgraphs.map(\.device), [.cpu, .dpu])
        XCTAssertThrowsError(try Compiler.compile(q, options: CompileOptions(forceDPU: ["conv"]))) { e in
            XCTAssertEqual("\(e)", "conv: cannot run on the DPU: kernel 17x17 exceeds conv kernel limit 1..16")
        }
        // On the CPU the conv still computes its integer (conv2d-fix) form: the emulator runs it.
        let p = try Compiler.compile(q)
        XCTAssertEqual(p.instructions[0].device, .cpu)
        XCTAssertEqual(try Emulator(program: p).run(["x": Self.x], capture: true).tensors["y"]?.codes.shape, [1, 1, 1, 1])
    }

    func testWrongInputShapeAndTargetAreClearErrors() throws {
        let p = try Compiler.compile(try Self.chain())
        XCTAssertThrowsError(try Emulator(program: p).run(["x": Tensor(shape: [1, 1, 3, 2], floats: [Float](repeating: 0, count: 6))])) { e in
            XCTAssertEqual("\(e)", "input 'x': expected shape [N, 1, 2, 2], got [1, 1, 3, 2]")
        }
        XCTAssertThrowsError(try Emulator(program: p, target: .dpuczdx8gISA1B1024)) { e in
            XCTAssertEqual("\(e)", "program was compiled for DPUCZDX8G_ISA1_B4096, not DPUCZDX8G_ISA1_B1024")
        }
        XCTAssertThrowsError(try DPUTarget.named("DPUX")) { e in
            XCTAssertTrue("\(e)".contains("accepted: DPUCZDX8G_ISA1_B4096, DPUCZDX8G_ISA1_B1024"), "\(e)")
        }
    }
}
