import Foundation
import XCTest
@testable import OctetGraph
import OctetTensor
import OctetTestSupport

/// Graph → ONNX → Graph round trips: structure equal, outputs identical.
final class ONNXExporterTests: XCTestCase {
    func tempPath(_ name: String) -> String {
        Scratch.path(name)
    }

    /// A Conv → LeakyRelu → MaxPool → Flatten → Gemm graph with a symbolic batch.
    static func smallGraph() -> Graph {
        let w = Tensor(shape: [2, 1, 3, 3], floats: (0..<18).map { Float($0 % 7) / 7 - 0.4 })
        let b = Tensor(shape: [2], floats: [0.1, -0.2])
        let fc = Tensor(shape: [3, 8], floats: (0..<24).map { Float(($0 * 5) % 11) / 11 - 0.5 })
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                 attributes: ["pads": .ints([1, 1, 1, 1]), "kernel_shape": .ints([3, 3]), "group": .int(1)]),
            Node(name: "leaky", opType: "LeakyRelu", inputs: ["c"], outputs: ["l"], attributes: ["alpha": .float(0.1)]),
            Node(name: "pool", opType: "MaxPool", inputs: ["l"], outputs: ["p"],
                 attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "auto_pad": .string("NOTSET")]),
            Node(name: "flat", opType: "Flatten", inputs: ["p"], outputs: ["f"]),
            Node(name: "fc", opType: "Gemm", inputs: ["f", "fc"], outputs: ["y"], attributes: ["transB": .int(1)]),
        ]
        return Graph(name: "small", nodes: nodes, initializers: ["w": w, "b": b, "fc": fc],
                     inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.symbolic("batch"), .fixed(1), .fixed(4), .fixed(4)])],
                     outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.symbolic("batch"), .fixed(3)])])
    }

    func roundTrip(_ g: Graph) throws -> Graph {
        let path = tempPath("model.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ONNXExporter.write(g, to: path)
        return try ONNXImporter.load(path: path)
    }

    func testSmallGraphRoundTripsAndRunsIdentically() throws {
        let g = Self.smallGraph()
        let back = try roundTrip(g)
        XCTAssertEqual(back.opset, 13)
        XCTAssertEqual(back.irVersion, 7)
        var expected = g
        expected.irVersion = 7
        XCTAssertEqual(back, expected)
        let x = Tensor(shape: [3, 1, 4, 4], floats: (0..<48).map { sin(Float($0)) })
        let a = try Model(graph: g, batchSize: 3).run(x), b = try Model(graph: back, batchSize: 3).run(x)
        XCTAssertEqual(a, b)
    }

    /// A HardSwish (opset 14, as HardSwishFusion makes it) in an opset-13 graph is written as
    /// x · HardSigmoid(x; 1/6, 1/2), which loads, runs the same function, and fuses back.
    func testHardSwishIsLoweredForOpset13AndFusesBack() throws {
        let g = Graph(name: "hs", nodes: [Node(name: "act", opType: "HardSwish", inputs: ["x"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(8)])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.fixed(1), .fixed(8)])], opset: 13)
        let back = try roundTrip(g)
        XCTAssertEqual(back.nodes.map(\.opType), ["HardSigmoid", "Mul"])
        XCTAssertEqual(back.nodes.map(\.name), ["act_hard_sigmoid", "act"])
        let x = Tensor(shape: [1, 8], floats: [-4, -3, -1.5, 0, 0.5, 1.5, 3, 4])
        let y = try Model(graph: back).run(x).floats
        for (v, r) in zip(x.floats, y) { XCTAssertEqual(r, v * min(max(v / 6 + 0.5, 0), 1), accuracy: 1e-6) }
        XCTAssertEqual(HardSwishFusion.run(back).nodes.map(\.opType), ["HardSwish"])
    }

    func testEveryAttributeKindAndDTypeRoundTrips() throws {
        var g = Self.smallGraph()
        let sub = Graph(name: "body", nodes: [Node(name: "id", opType: "Identity", inputs: ["a"], outputs: ["o"])],
                        inputs: [ValueInfo(name: "a", dtype: .int64, dims: [.fixed(2)])],
                        outputs: [ValueInfo(name: "o", dtype: .int64, dims: [.symbolic("")])])
        g.nodes[1].attributes["floats"] = .floats([1.5, -2])
        g.nodes[1].attributes["strings"] = .strings(["a", "bc"])
        g.nodes[1].attributes["tensor"] = .tensor(Tensor(shape: [2], int64s: [7, -9]))
        g.nodes[1].attributes["graph"] = .graph(sub)
        g.initializers["i8"] = Tensor(shape: [2], int8s: [-128, 127])
        g.initializers["u8"] = Tensor(shape: [1, 2], uint8s: [0, 255])
        g.initializers["i32"] = Tensor(shape: [], int32s: [-5])
        g.initializers["i64"] = Tensor(shape: [3], int64s: [1, -2, Int64.max])
        let back = try roundTrip(g)
        XCTAssertEqual(back.nodes, g.nodes)
        XCTAssertEqual(back.initializers, g.initializers)
        XCTAssertEqual(back.inputs, g.inputs)
        XCTAssertEqual(back.outputs, g.outputs)
    }

    func testInitializersAreRawDataAndValueInfosWritten() throws {
        let proto = ONNXExporter.modelProto(Self.smallGraph(), opset: nil, irVersion: nil)
        XCTAssertEqual(proto.irVersion, 7)
        XCTAssertEqual(proto.opsetImport.map(\.version), [13])
        XCTAssertTrue(proto.graph.initializer.allSatisfy { $0.hasRawData && $0.floatData.isEmpty })
        XCTAssertEqual(proto.graph.initializer.first { $0.name == "w" }?.rawData.count, 18 * 4)
        XCTAssertEqual(proto.graph.input.first?.type.tensorType.shape.dim.first?.dimParam, "batch")
        XCTAssertEqual(proto.graph.output.first?.type.tensorType.shape.dim.last?.dimValue, 3)
    }

    func testWriteFailsNamingTheDirectory() {
        XCTAssertThrowsError(try ONNXExporter.write(Self.smallGraph(), to: "/nonexistent-octet-dir/m.onnx")) { e in
            XCTAssertTrue("\(e)".contains("nonexistent-octet-dir"), "\(e)")
        }
    }

    func testSharedModelsRoundTrip() throws {
        for m in try SharedModels.require() {
            let g = try ONNXImporter.load(path: m.modelPath)
            let back = try roundTrip(g)
            XCTAssertEqual(back.nodes, g.nodes, m.name)
            XCTAssertEqual(back.initializers, g.initializers, m.name)
            let x = try m.input("eval")
            let first = TensorBatch.slice(x, start: 0, count: 2, padTo: 2)
            let a = try Model(graph: g).run([m.inputName: first]), b = try Model(graph: back).run([m.inputName: first])
            for name in m.outputNames { XCTAssertEqual(a[name], b[name], "\(m.name) \(name)") }
        }
    }
}
