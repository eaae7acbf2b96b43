import Foundation
@testable import OctetGraph
import OctetTensor
import XCTest
import OctetTestSupport

/// Importer features: batch handling, external data, Constant folding, shape folding.
final class ModelLoadingTests: XCTestCase {
    func testFixedBatchOneModelRunsAnyBatchSize() throws {
        let model = try Model.load(path: try ModelBuilder.write(ModelBuilder.reluModel(batch: 1)))
        XCTAssertEqual(model.batchSize, 1)
        let y = try model.run(Tensor(shape: [3, 2], floats: [-1, 1, 2, -2, -3, 3]))
        XCTAssertEqual(y.shape, [3, 2])
        XCTAssertEqual(y.floats, [0, 1, 2, 0, 0, 3])
    }

    func testSymbolicBatchChunksWithPadding() throws {
        let model = try Model.load(path: try ModelBuilder.write(ModelBuilder.reluModel(batch: "N")), batchSize: 2)
        XCTAssertEqual(model.batchSize, 2)
        let y = try model.run(Tensor(shape: [3, 2], floats: [-1, 1, 2, -2, -3, 3]))
        XCTAssertEqual(y.shape, [3, 2])
        XCTAssertEqual(y.floats, [0, 1, 2, 0, 0, 3])
    }

    /// A constant output comes out once, not once per chunk; one that depends on the whole batch (a
    /// reduction over it) is refused when the run is cut into chunks, and computed when it is not.
    func testOutputWithoutBatchAxisIsNotConcatenatedOverChunks() throws {
        var g = try ONNXImporter.load(path: try ModelBuilder.write(ModelBuilder.reluModel(batch: "N")))
        g.initializers["k"] = Tensor(shape: [4], floats: [1, 2, 3, 4])
        g.outputs.append(ValueInfo(name: "k", dtype: .float32, dims: [.fixed(4)]))
        let out = try Model(graph: g, batchSize: 2).run(["x": Tensor(shape: [5, 2], floats: (0..<10).map(Float.init))])
        XCTAssertEqual(out["k"]?.shape, [4])
        XCTAssertEqual(out["k"]?.floats, [1, 2, 3, 4])
        XCTAssertEqual(out["y"]?.shape, [5, 2])

        var keepdims = Onnx_AttributeProto()
        keepdims.name = "keepdims"; keepdims.type = .int; keepdims.i = 0
        let total = try ModelBuilder.write(ModelBuilder.model(
            nodes: [ModelBuilder.node("Relu", ["x"], ["y"]), ModelBuilder.node("ReduceMax", ["x"], ["total"], attrs: [ModelBuilder.ints("axes", [0, 1]), keepdims])],
            inputs: [ModelBuilder.valueInfo("x", ["N", 2])], outputs: [ModelBuilder.valueInfo("y", ["N", 2]), ModelBuilder.valueInfo("total", [])]))
        let x = Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try Model.load(path: total, batchSize: 2).run(["x": x])) { e in
            XCTAssertEqual("\(e)", "output 'total' [] depends on the batch as a whole (axis 0 is not the batch, or samples are mixed), so it is computed only for a batch of exactly 2 samples, not 3; run 2 at a time (a model with a symbolic batch takes another batch size: `deploy`/`export --batch N`, `load(path, batch: N)` in scripts)")
        }
        XCTAssertEqual(try Model.load(path: total, batchSize: 3).run(["x": x])["total"], Tensor(shape: [], floats: [6]))
    }

    /// Outputs declared by kind at load; a run cut into chunks joins each by it (onnxruntime gives
    /// these models' outputs for the whole batch).
    func testOutputsAreDeclaredPerSampleConstantOrWholeBatch() throws {
        var axis0 = Onnx_AttributeProto()
        axis0.name = "axis"; axis0.type = .int; axis0.i = 0
        let path = try ModelBuilder.write(ModelBuilder.model(
            nodes: [ModelBuilder.node("Relu", ["x"], ["y"]),
                    ModelBuilder.node("Transpose", ["x"], ["t"], attrs: [ModelBuilder.ints("perm", [1, 0])]),
                    ModelBuilder.node("Softmax", ["x"], ["s"], attrs: [axis0]),
                    ModelBuilder.node("Shape", ["x"], ["shape"])],
            inputs: [ModelBuilder.valueInfo("x", ["batch", 2])],
            outputs: ["y", "t", "s", "k", "shape"].map { ModelBuilder.valueInfo($0, [], elem: $0 == "shape" ? .int64 : .float) },
            initializers: [ModelBuilder.tensor("k", [1, 3], [1, 2, 3])]))
        let m = try Model.load(path: path)
        let whole = Dim.symbolic(OutputBatching.wholeBatchDim)
        XCTAssertEqual(m.outputs.map(\.dims), [[.symbolic("batch"), .fixed(2)], [whole, whole], [whole, whole], [.fixed(1), .fixed(3)], [whole]])
        XCTAssertEqual(m.outputs.map { m.outputBatching($0.name) }, [.perSample, .wholeBatch, .wholeBatch, .constant, .wholeBatch])
        XCTAssertEqual(m.outputBatching("t").note(batchSize: 1), "depends on the whole batch: runs of 1 sample at a time")
        let x = Tensor(shape: [3, 2], floats: [1, -2, 3, 4, -5, 6])
        var keep = m.graph
        keep.outputs = keep.outputs.filter { ["y", "k"].contains($0.name) }
        let out = try Model(graph: keep).run(["x": x])
        XCTAssertEqual(out["y"], Tensor(shape: [3, 2], floats: [1, 0, 3, 4, 0, 6]))
        XCTAssertEqual(out["k"], Tensor(shape: [1, 3], floats: [1, 2, 3]))   // once, not once per sample
        for name in ["t", "s", "shape"] {
            var one = m.graph
            one.outputs = one.outputs.filter { $0.name == name }
            XCTAssertThrowsError(try Model(graph: one).run(["x": x]), name) { e in
                XCTAssertTrue("\(e)".hasPrefix("output '\(name)' "), "\(e)")
            }
        }
        // Fewer samples than the batch (one padded chunk), at batch 4, where the value probe needs a
        // third preparation: the wanted outputs come out right, a whole-batch one is refused up front.
        let four = try Model.load(path: path, batchSize: 4)
        XCTAssertEqual(four.outputs.map { four.outputBatching($0.name) }, [.perSample, .wholeBatch, .wholeBatch, .constant, .wholeBatch])
        let some = try four.run(["x": x], outputs: ["y", "k"])
        XCTAssertEqual(some["y"], out["y"])
        XCTAssertEqual(some["k"], out["k"])
        XCTAssertThrowsError(try four.run(["x": x])) { e in
            XCTAssertEqual("\(e)", "output 't' depends on the batch as a whole (axis 0 is not the batch, or samples are mixed), so it is computed only for a batch of exactly 4 samples, not 3; run 4 at a time (a model with a symbolic batch takes another batch size: `deploy`/`export --batch N`, `load(path, batch: N)` in scripts)")
        }
        let all = try Model.load(path: path, batchSize: 3).run(["x": x])
        XCTAssertEqual(all["t"], Tensor(shape: [2, 3], floats: [1, 3, -5, -2, 4, 6]))
        XCTAssertEqual(all["shape"], Tensor(shape: [2], int64s: [3, 2]))
        let e1 = exp(Float(1)), e3 = exp(Float(3)), em5 = exp(Float(-5))
        XCTAssertEqual(all["s"]!.floats[0], e1 / (e1 + e3 + em5), accuracy: 1e-6)
    }

    func testTensorInfoCountsBytesByDtype() throws {
        var axis = Onnx_AttributeProto()
        axis.name = "axis"; axis.type = .int; axis.i = 1
        let g = try ONNXImporter.load(path: try ModelBuilder.write(ModelBuilder.model(
            nodes: [ModelBuilder.node("Relu", ["x"], ["y"]), ModelBuilder.node("ArgMax", ["y"], ["k"], attrs: [axis])],
            inputs: [ModelBuilder.valueInfo("x", [3, 2])], outputs: [ModelBuilder.valueInfo("k", [3, 1], elem: .int64)])))
        let info = try TensorInfo(graph: g)
        XCTAssertEqual(info.byteCount("y"), 3 * 2 * 4)
        XCTAssertEqual(info.byteCount("k"), 3 * 1 * 8)
        XCTAssertEqual(info.byteCount("nothing"), 0)
    }

    func testExternalDataWeights() throws {
        // MatMul with a 2x2 weight stored in a side file at offset 8.
        let dir = Scratch.directory("ext")
        var bytes = Data(repeating: 0xAB, count: 8)
        [Float(1), 2, 3, 4].withUnsafeBytes { bytes.append(contentsOf: $0) }
        try bytes.write(to: dir.appendingPathComponent("weights.bin"))
        var w = Onnx_TensorProto()
        w.name = "w"; w.dims = [2, 2]; w.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        w.dataLocation = .external
        w.externalData = [("location", "weights.bin"), ("offset", "8"), ("length", "16")].map { k, v in
            var e = Onnx_StringStringEntryProto(); e.key = k; e.value = v; return e
        }
        let proto = ModelBuilder.model(nodes: [ModelBuilder.node("MatMul", ["x", "w"], ["y"])], inputs: [ModelBuilder.valueInfo("x", [1, 2])],
                                       outputs: [ModelBuilder.valueInfo("y", [1, 2])], initializers: [w])
        let path = dir.appendingPathComponent("m.onnx").path
        try proto.serializedData().write(to: URL(fileURLWithPath: path))
        let y = try Model.load(path: path).run(Tensor(shape: [1, 2], floats: [1, 1]))
        XCTAssertEqual(y.floats, [4, 6])  // [1 1]·[[1 2][3 4]]
        try FileManager.default.removeItem(at: dir.appendingPathComponent("weights.bin"))
        XCTAssertThrowsError(try Model.load(path: path)) { XCTAssertTrue("\($0)".contains("external data file"), "\($0)") }
        // A folder as the data file (the read aborted), a bad offset (read as 0), a node without outputs (SIGSEGV).
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        for (entries, message) in [([("location", ".")], "must be a path inside the model's folder"), ([("location", "sub")], "is not a regular file"), ([("location", "m.onnx"), ("offset", "abc")], "offset 'abc' is not a non-negative integer")] {
            w.externalData = entries.map { k, v in var e = Onnx_StringStringEntryProto(); e.key = k; e.value = v; return e }
            let bad = ModelBuilder.model(nodes: [ModelBuilder.node("MatMul", ["x", "w"], ["y"])], inputs: [ModelBuilder.valueInfo("x", [1, 2])],
                                         outputs: [ModelBuilder.valueInfo("y", [1, 2])], initializers: [w])
            try bad.serializedData().write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try Model.load(path: path)) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
        let noOutputs = ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], [])], inputs: [ModelBuilder.valueInfo("x", [1, 2])],
                                           outputs: [ModelBuilder.valueInfo("x", [1, 2])], initializers: [])
        try noOutputs.serializedData().write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Model.load(path: path)) { XCTAssertTrue("\($0)".contains("node Relu_0 (Relu) has no outputs"), "\($0)") }
        try? FileManager.default.removeItem(at: dir)
    }

    /// Every file a tensor is read from is recorded (so no command writes over it), a Constant
    /// node's external value too; a location outside the model's folder is refused (ONNX
    /// ExternalData.md: relative, no `..`).
    func testExternalDataFilesAreRecordedAndStayInTheModelFolder() throws {
        let dir = Scratch.directory("ext-const")
        defer { try? FileManager.default.removeItem(at: dir) }
        try [Float(1), 2, 3, 4].withUnsafeBytes { Data($0) }.write(to: dir.appendingPathComponent("c.bin"))
        func model(location: String) -> Onnx_ModelProto {
            var w = Onnx_TensorProto()
            w.name = "w"; w.dims = [2, 2]; w.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            w.dataLocation = .external
            var e = Onnx_StringStringEntryProto(); e.key = "location"; e.value = location
            w.externalData = [e]
            var value = Onnx_AttributeProto(); value.name = "value"; value.type = .tensor; value.t = w
            return ModelBuilder.model(nodes: [ModelBuilder.node("Constant", [], ["w"], name: "const", attrs: [value]),
                                              ModelBuilder.node("MatMul", ["x", "w"], ["y"])],
                                      inputs: [ModelBuilder.valueInfo("x", [1, 2])], outputs: [ModelBuilder.valueInfo("y", [1, 2])])
        }
        let path = dir.appendingPathComponent("m.onnx").path
        try model(location: "c.bin").serializedData().write(to: URL(fileURLWithPath: path))
        let m = try Model.load(path: path)
        XCTAssertEqual(m.graph.externalDataFiles, [dir.appendingPathComponent("c.bin").path])
        XCTAssertEqual(try m.run(Tensor(shape: [1, 2], floats: [1, 1])).floats, [4, 6])
        let outside = URL(fileURLWithPath: Scratch.path("outside.bin"))
        try Data(count: 16).write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.bin").path, withDestinationPath: outside.path)
        for location in ["../c.bin", "/etc/passwd", "sub/../../c.bin", "link.bin"] {
            try model(location: location).serializedData().write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try Model.load(path: path)) {
                XCTAssertEqual("\($0)", "\(path): invalid model: tensor 'w': external data location '\(location)' must be a path inside the model's folder")
            }
        }
    }

    func testShapeSubgraphIsFolded() throws {
        // y = Reshape(x, Concat(Gather(Shape(x), 0), [-1])) : the PyTorch flatten idiom.
        var axis = Onnx_AttributeProto(); axis.name = "axis"; axis.type = .int; axis.i = 0
        var minus1 = Onnx_TensorProto(); minus1.name = "m1"; minus1.dims = [1]
        minus1.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue); minus1.int64Data = [-1]
        var zero = Onnx_TensorProto(); zero.name = "zero"; zero.dims = [1]
        zero.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue); zero.int64Data = [0]
        let nodes = [ModelBuilder.node("Shape", ["x"], ["s"], name: "shape"),
                     ModelBuilder.node("Gather", ["s", "zero"], ["n"], name: "gather", attrs: [axis]),
                     ModelBuilder.node("Concat", ["n", "m1"], ["target"], name: "concat", attrs: [axis]),
                     ModelBuilder.node("Reshape", ["x", "target"], ["y"], name: "reshape")]
        let proto = ModelBuilder.model(nodes: nodes, inputs: [ModelBuilder.valueInfo("x", [1, 2, 3])],
                                       outputs: [ModelBuilder.valueInfo("y", [1, 6])], initializers: [minus1, zero])
        let model = try Model.load(path: try ModelBuilder.write(proto))
        XCTAssertEqual(model.graph.nodes.map(\.opType), ["Reshape"])
        XCTAssertEqual(model.graph.initializers[model.graph.nodes[0].inputs[1]]?.int64s, [1, -1])
        XCTAssertEqual(try model.run(Tensor(shape: [1, 2, 3], floats: [1, 2, 3, 4, 5, 6])).shape, [1, 6])
    }

    /// The load-time shape run uses ones where zeros make a node fail: y = float(6 / int64(x)).
    func testShapeRunRetriesWithOnesWhenZerosDivideByZero() throws {
        func cast(_ to: Onnx_TensorProto.DataType) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto(); a.name = "to"; a.type = .int; a.i = Int64(to.rawValue); return a
        }
        func int64(_ name: String, _ v: Int64) -> Onnx_TensorProto {
            var t = Onnx_TensorProto(); t.name = name; t.dims = [1]
            t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue); t.int64Data = [v]; return t
        }
        func model(_ middle: [Onnx_NodeProto]) throws -> String {
            let nodes = [ModelBuilder.node("Cast", ["x"], ["xi"], name: "to_int", attrs: [cast(.int64)])] + middle
                + [ModelBuilder.node("Cast", ["q"], ["y"], name: "to_float", attrs: [cast(.float)])]
            return try ModelBuilder.write(ModelBuilder.model(nodes: nodes, inputs: [ModelBuilder.valueInfo("x", [1, 3])],
                                                             outputs: [ModelBuilder.valueInfo("y", [1, 3])],
                                                             initializers: [int64("six", 6), int64("one", 1)]))
        }
        let divides = try Model.load(path: try model([ModelBuilder.node("Div", ["six", "xi"], ["q"], name: "div")]))
        XCTAssertEqual(try divides.run(Tensor(shape: [1, 3], floats: [1, 2, 3])).floats, [6, 3, 2])
        // Zeros fail at one node and ones at another: the zeros' error, saying when it happened.
        let path = try model([ModelBuilder.node("Div", ["six", "xi"], ["a"], name: "div"),
                              ModelBuilder.node("Sub", ["xi", "one"], ["xm"], name: "sub"),
                              ModelBuilder.node("Div", ["six", "xm"], ["b"], name: "div_minus_one"),
                              ModelBuilder.node("Add", ["a", "b"], ["q"], name: "add")])
        do {
            _ = try Model.load(path: path)
            XCTFail("loaded")
        } catch {
            XCTAssertEqual("\(error)", "\(path): node div (Div): integer division by zero "
                           + "(running the model once on all-zero inputs to find its tensor shapes)")
        }
    }

    /// An unnamed node gets <op>_<index>, or a variant of it when a named node already has that name.
    func testUnnamedNodesGetUnusedNames() throws {
        let nodes = [ModelBuilder.node("Relu", ["x"], ["a"], name: "Relu_1"), ModelBuilder.node("Relu", ["a"], ["b"], name: ""),
                     ModelBuilder.node("Neg", ["b"], ["y"], name: "")]
        var proto = ModelBuilder.model(nodes: nodes, inputs: [ModelBuilder.valueInfo("x", [1, 2])], outputs: [ModelBuilder.valueInfo("y", [1, 2])])
        proto.graph.node[1].name = ""
        proto.graph.node[2].name = ""
        let model = try Model.load(path: try ModelBuilder.write(proto))
        XCTAssertEqual(model.graph.nodes.map(\.name), ["Relu_1", "Relu_1_2", "Neg_2"])
    }

    func testConstantNodeBecomesInitializer() throws {
        var value = Onnx_AttributeProto(); value.name = "value"; value.type = .tensor
        value.t = ModelBuilder.tensor("", [2], [10, 20])
        let nodes = [ModelBuilder.node("Constant", [], ["c"], name: "const", attrs: [value]),
                     ModelBuilder.node("Add", ["x", "c"], ["y"], name: "add")]
        let proto = ModelBuilder.model(nodes: nodes, inputs: [ModelBuilder.valueInfo("x", [1, 2])], outputs: [ModelBuilder.valueInfo("y", [1, 2])])
        let model = try Model.load(path: try ModelBuilder.write(proto))
        XCTAssertEqual(model.graph.nodes.map(\.opType), ["Add"])
        XCTAssertEqual(try model.run(Tensor(shape: [1, 2], floats: [1, 2])).floats, [11, 22])
    }

    func testFloat16InitializerDecodes() {
        // 0x3C00 = 1.0, 0xC000 = -2.0, 0x3555 ≈ 0.333251953125 (IEEE 754 binary16)
        XCTAssertEqual(ONNXTensor.halfToFloat(0x3C00), 1.0)
        XCTAssertEqual(ONNXTensor.halfToFloat(0xC000), -2.0)
        XCTAssertEqual(ONNXTensor.halfToFloat(0x3555), 0.333251953125)
        XCTAssertEqual(ONNXTensor.halfToFloat(0x0001), Float(pow(2.0, -24.0)))
    }
}
