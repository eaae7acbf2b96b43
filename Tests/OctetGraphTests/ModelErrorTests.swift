import Foundation
@testable import OctetGraph
import OctetTensor
import XCTest
import OctetTestSupport

/// Bad input gets a clear error naming the file, node or tensor — never a crash.
final class ModelErrorTests: XCTestCase {
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    /// The error loading `proto` gives, without the file name it must hold.
    func loadError(_ proto: Onnx_ModelProto, batchSize: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = try ModelBuilder.write(proto)
        let m = message { _ = try Model.load(path: path, batchSize: batchSize) }
        guard m.contains("\(path): ") else { XCTFail("not naming \(path): \(m)", file: file, line: line); return m }
        return m.replacingOccurrences(of: "\(path): ", with: "")
    }

    func testMissingFile() {
        let m = message { _ = try Model.load(path: "/nonexistent/model.onnx") }
        XCTAssertEqual(m, "/nonexistent/model.onnx: no such file")
    }

    func testNotONNXFile() throws {
        let path = Scratch.path("text.onnx")
        try Data("this is not a protobuf at all\n".utf8).write(to: URL(fileURLWithPath: path))
        let m = message { _ = try Model.load(path: path) }
        XCTAssertTrue(m.hasPrefix("\(path): not a valid ONNX model"), m)
    }

    /// Octet's program files, .npy arrays and .npz archives are named, not reported as broken protobuf.
    func testOtherKnownFormatsAreNamed() throws {
        for (bytes, what) in [(Array("OCTPROG\0".utf8) + [1, 0, 0, 0], "an Octet DPU program (.octprog"),
                              ([0x93] + Array("NUMPY\u{1}\u{0}".utf8), "a NumPy array (.npy)"), ([0x50, 0x4B, 0x03, 0x04, 0, 0], "a zip archive (.npz)")] {
            let path = Scratch.path("other.onnx")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let m = message { _ = try Model.load(path: path) }
            XCTAssertTrue(m.hasPrefix("\(path): not a valid ONNX model: it is \(what)"), m)
        }
    }

    /// Inputs declared float64 / float16 are computed in float32, and say so.
    func testDeclaredTypesOtherThanTheComputedOneAreKept() throws {
        let proto = ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["y"])],
                                       inputs: [ModelBuilder.valueInfo("x", [1, 2], elem: .double)],
                                       outputs: [ModelBuilder.valueInfo("y", [1, 2], elem: .float16)])
        let m = try Model.load(path: try ModelBuilder.write(proto))
        XCTAssertEqual(m.inputs[0].typeDescription, "float32 (declared float64)")
        XCTAssertEqual(m.outputs[0].typeDescription, "float32 (declared float16)")
    }

    func testTruncatedFile() throws {
        let full = try ModelBuilder.reluModel().serializedData()
        let path = Scratch.path("trunc.onnx")
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: path))
        let m = message { _ = try Model.load(path: path) }
        XCTAssertTrue(m.contains("not a valid ONNX model"), m)
    }

    func testModelWithoutOutputs() throws {
        let proto = ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["y"])], inputs: [ModelBuilder.valueInfo("x", [1, 2])], outputs: [])
        let m = try loadError(proto)
        XCTAssertTrue(m.contains("the model has no outputs"), m)
    }

    func testUnsupportedOpNamesNodeOpAndOpset() throws {
        let proto = ModelBuilder.model(nodes: [ModelBuilder.node("Det", ["x"], ["y"], name: "my_det")],
                                       inputs: [ModelBuilder.valueInfo("x", [1, 2])], outputs: [ModelBuilder.valueInfo("y", [1])])
        let m = try loadError(proto)
        XCTAssertEqual(m, "node my_det: unsupported operator Det (opset 13)")
    }

    /// ONNX has HardSwish from opset 14 (Operators.md); onnxruntime refuses it in an opset-13 model.
    func testOperatorNewerThanTheModelsOpset() throws {
        func proto(_ opset: Int64) -> Onnx_ModelProto {
            ModelBuilder.model(nodes: [ModelBuilder.node("HardSwish", ["x"], ["y"], name: "hs")], inputs: [ModelBuilder.valueInfo("x", [1, 2])],
                               outputs: [ModelBuilder.valueInfo("y", [1, 2])], opset: opset)
        }
        XCTAssertEqual(try loadError(proto(13)), "invalid model: node hs: HardSwish is an ONNX operator from opset 14; the model declares opset 13")
        XCTAssertNoThrow(try Model.load(path: try ModelBuilder.write(proto(14))))
    }

    func testUnsupportedOpset() throws {
        let proto = ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["y"])], inputs: [ModelBuilder.valueInfo("x", [1, 2])],
                                       outputs: [ModelBuilder.valueInfo("y", [1, 2])], opset: 5)
        let m = try loadError(proto)
        XCTAssertTrue(m.contains("opset 5 is not supported"), m)
    }

    func testWrongInputShapeAndDtype() throws {
        let model = try Model.load(path: try ModelBuilder.write(ModelBuilder.reluModel()))
        let shape = message { _ = try model.run(Tensor(shape: [1, 3], floats: [1, 2, 3])) }
        XCTAssertEqual(shape, "input 'x': expected shape [N, 2], got [1, 3]")
        let dtype = message { _ = try model.run(Tensor(shape: [1, 2], int64s: [1, 2])) }
        XCTAssertEqual(dtype, "input 'x': expected float32, got int64")
    }

    func testSymbolicNonBatchDimNeedsAValue() throws {
        let proto = ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["y"])],
                                       inputs: [ModelBuilder.valueInfo("x", ["batch", "width"])], outputs: [ModelBuilder.valueInfo("y", ["batch", "width"])])
        let path = try ModelBuilder.write(proto)
        let m = message { _ = try Model.load(path: path) }
        XCTAssertEqual(m, "\(path): input 'x': dimension 'width' is symbolic; models run at fixed sizes, and only the batch axis is set at load: fix this one in the model")
        let ok = try Model.load(path: path, dims: ["width": 3])
        XCTAssertEqual(try ok.run(Tensor(shape: [2, 3], floats: [-1, 2, -3, 4, -5, 6])).floats, [0, 2, 0, 4, 0, 6])
    }

    func testOutOfRangeAttributes() throws {
        let w = ModelBuilder.tensor("w", [1, 1, 1, 1], [2])
        let conv = ModelBuilder.node("Conv", ["x", "w"], ["y"], name: "bad_conv", attrs: [ModelBuilder.ints("strides", [0, 1])])
        let proto = ModelBuilder.model(nodes: [conv], inputs: [ModelBuilder.valueInfo("x", [1, 1, 2, 2])],
                                       outputs: [ModelBuilder.valueInfo("y", [1, 1, 2, 2])], initializers: [w])
        let m = try loadError(proto)
        XCTAssertEqual(m, "node bad_conv (Conv): attribute 'strides': expected two values in 1...1048576, got [0, 1]")
    }

    func testTensorDataShorterThanShape() throws {
        let w = ModelBuilder.tensor("w", [2, 2], [1, 2, 3])
        let proto = ModelBuilder.model(nodes: [ModelBuilder.node("MatMul", ["x", "w"], ["y"])], inputs: [ModelBuilder.valueInfo("x", [1, 2])],
                                       outputs: [ModelBuilder.valueInfo("y", [1, 2])], initializers: [w])
        let m = try loadError(proto)
        XCTAssertEqual(m, "invalid model: tensor 'w': shape [2, 2] needs 4 elements, data has 3")
    }

    func testMissingProducer() throws {
        let proto = ModelBuilder.model(nodes: [ModelBuilder.node("Add", ["x", "ghost"], ["y"], name: "add")],
                                       inputs: [ModelBuilder.valueInfo("x", [1, 2])], outputs: [ModelBuilder.valueInfo("y", [1, 2])])
        let m = try loadError(proto)
        XCTAssertEqual(m, "node add (Add): input tensor 'ghost' is not produced by any node, input or initializer")
    }

    /// A cycle, and an If whose branches read the outer graph's tensors, are each named for what
    /// they are.
    func testCyclesDuplicateOutputsAndSubgraphs() throws {
        let cycle = ModelBuilder.model(nodes: [ModelBuilder.node("Add", ["x", "b"], ["a"], name: "n1"),
                                               ModelBuilder.node("Relu", ["a"], ["b"], name: "n2"),
                                               ModelBuilder.node("Relu", ["a"], ["y"], name: "n3")],
                                       inputs: [ModelBuilder.valueInfo("x", [1, 2])], outputs: [ModelBuilder.valueInfo("y", [1, 2])])
        XCTAssertEqual(try loadError(cycle), "invalid model: node n1 (Add) depends on its own output through 'a': the graph has a cycle")
        func branch(_ op: String) -> Onnx_AttributeProto {
            var g = Onnx_GraphProto()
            g.name = op; g.node = [ModelBuilder.node(op, ["x"], ["\(op)_out"])]
            g.output = [ModelBuilder.valueInfo("\(op)_out", [1, 2])]
            var a = Onnx_AttributeProto(); a.name = op == "Neg" ? "then_branch" : "else_branch"; a.type = .graph; a.g = g
            return a
        }
        let cond = ModelBuilder.tensor("c", [], [1])
        var condBool = cond; condBool.dataType = Int32(Onnx_TensorProto.DataType.bool.rawValue); condBool.floatData = []; condBool.int32Data = [1]
        let iff = ModelBuilder.model(nodes: [ModelBuilder.node("If", ["c"], ["y"], name: "choose", attrs: [branch("Neg"), branch("Relu")])],
                                     inputs: [ModelBuilder.valueInfo("x", [1, 2])], outputs: [ModelBuilder.valueInfo("y", [1, 2])],
                                     initializers: [condBool])
        XCTAssertEqual(try loadError(iff), "node choose: unsupported operator If (opset 13)")
    }

    /// Sizes from attributes that would allocate absurd outputs are errors naming the node, and a
    /// negative input dimension is an unknown one.
    func testHugeOutputsAndNegativeDimensions() throws {
        let w = ModelBuilder.tensor("w", [1, 1, 1, 1], [2])
        let conv = ModelBuilder.node("Conv", ["x", "w"], ["y"], name: "big_pads", attrs: [ModelBuilder.ints("pads", [1 << 40, 0, 0, 0])])
        let proto = ModelBuilder.model(nodes: [conv], inputs: [ModelBuilder.valueInfo("x", [1, 1, 2, 2])],
                                       outputs: [ModelBuilder.valueInfo("y", [1, 1, 2, 2])], initializers: [w])
        XCTAssertEqual(try loadError(proto),
                       "node big_pads (Conv): attribute 'pads': expected four values in 0...1048576, got [1099511627776, 0, 0, 0]")
        let wide = ModelBuilder.node("Conv", ["x", "w"], ["y"], name: "wide", attrs: [ModelBuilder.ints("pads", [0, 1 << 20, 0, 1 << 20])])
        let big = ModelBuilder.model(nodes: [wide], inputs: [ModelBuilder.valueInfo("x", [4096, 1, 2, 2])],
                                     outputs: [ModelBuilder.valueInfo("y", [1, 1, 2, 2])], initializers: [w])
        XCTAssertEqual(try loadError(big),
                       "node wide (Conv): output shape [4096, 1, 2, 2097154] is negative or larger than 2147483648 elements")
        let relu = ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["y"])], inputs: [ModelBuilder.valueInfo("x", [1, -3, 8, 8])],
                                      outputs: [ModelBuilder.valueInfo("y", [1, 3, 8, 8])])
        XCTAssertEqual(try loadError(relu),
                       "input 'x': dimension 'axis 1' is symbolic; models run at fixed sizes, and only the batch axis is set at load: fix this one in the model")
        XCTAssertEqual(try loadError(relu, batchSize: Model.maxBatchSize + 1),
                       "batch size must be in 1...65536, got 65537")
        // A fixed batch of 0 (runs would never advance) or beyond the limit is refused at load.
        for b in [0, 100_000] {
            let fixed = ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["y"])], inputs: [ModelBuilder.valueInfo("x", [b, 1, 4, 4])],
                                           outputs: [ModelBuilder.valueInfo("y", [b, 1, 4, 4])])
            XCTAssertEqual(try loadError(fixed),
                           "input 'x': batch dimension \(b) is outside 1...65536")
        }
    }

    /// ConvTranspose's attributes are checked against the weight and the ONNX spec before any
    /// window is read (onnxruntime refuses each of these too).
    func testConvTransposeAttributesAreChecked() throws {
        func error(_ attrs: [Onnx_AttributeProto], bias: Int? = nil) throws -> String {
            let w = ModelBuilder.tensor("w", [1, 1, 2, 2], [1, 2, 3, 4])
            let b = bias.map { ModelBuilder.tensor("b", [$0], Array(repeating: 1, count: $0)) }
            let t = ModelBuilder.node("ConvTranspose", ["x", "w"] + (b == nil ? [] : ["b"]), ["y"], name: "up",
                                      attrs: [ModelBuilder.ints("strides", [2, 2])] + attrs)
            let proto = ModelBuilder.model(nodes: [t], inputs: [ModelBuilder.valueInfo("x", [1, 1, 2, 2])],
                                           outputs: [ModelBuilder.valueInfo("y", [1, 1, 4, 4])], initializers: [w] + (b.map { [$0] } ?? []))
            return try loadError(proto)
        }
        var autoPad = Onnx_AttributeProto()
        autoPad.name = "auto_pad"; autoPad.type = .string; autoPad.s = Data("SAME".utf8)
        let range = "values in 1...\(WindowAttributes.maxExtent)"
        let cases: [([Onnx_AttributeProto], Int?, String)] = [
            ([ModelBuilder.ints("output_padding", [2, 0])], nil, "output_padding [2, 0] must be below the stride or the dilation per axis"),
            ([ModelBuilder.ints("kernel_shape", [5, 5])], nil, "kernel_shape [5, 5] does not match weight [1, 1, 2, 2]"),
            ([ModelBuilder.ints("dilations", [0, 1])], nil, "attribute 'dilations': expected 2 \(range), got [0, 1]"),
            ([ModelBuilder.ints("pads", [-1, -1, 0, 0])], nil, "attribute 'pads': expected 4 values in 0...\(WindowAttributes.maxExtent), got [-1, -1, 0, 0]"),
            ([autoPad], nil, "attribute 'auto_pad': unknown value 'SAME' (accepted: NOTSET, VALID, SAME_UPPER, SAME_LOWER)"),
            ([ModelBuilder.ints("output_shape", [9])], nil, "attribute 'output_shape': expected the 2 spatial sizes (or N, C, H, W), got [9]"),
            ([ModelBuilder.ints("output_shape", [9, 4])], nil,
             "output height 9 (output_shape) is not in 1...5, the full output of input [1, 1, 2, 2] (stride·(in − 1) + output_padding + (k − 1)·dilation + 1, plus less than the stride)"),
            ([], 2, "bias has 2 elements, expected 1"),
        ]
        for (attrs, bias, expected) in cases {
            XCTAssertEqual(try error(attrs, bias: bias), "node up (ConvTranspose): " + expected)
        }
        let zeroStride = ModelBuilder.node("ConvTranspose", ["x", "w"], ["y"], name: "up", attrs: [ModelBuilder.ints("strides", [0, 1])])
        let proto = ModelBuilder.model(nodes: [zeroStride], inputs: [ModelBuilder.valueInfo("x", [1, 1, 2, 2])], outputs: [ModelBuilder.valueInfo("y", [1, 1, 4, 4])],
                                       initializers: [ModelBuilder.tensor("w", [1, 1, 2, 2], [1, 2, 3, 4])])
        XCTAssertEqual(try loadError(proto), "node up (ConvTranspose): attribute 'strides': expected 2 \(range), got [0, 1]")
    }

    /// Models onnxruntime refuses as outside the ONNX spec are refused, not read another way: a
    /// rank-3 Gemm input, pool pads as large as the kernel, Squeeze's axes attribute at opset 13.
    func testSpecViolationsAreRefused() throws {
        func error(_ node: Onnx_NodeProto, _ input: [Int], initializers: [Onnx_TensorProto] = []) throws -> String {
            try loadError(ModelBuilder.model(nodes: [node], inputs: [ModelBuilder.valueInfo("x", input)],
                                             outputs: [ModelBuilder.valueInfo("y", [1])], initializers: initializers))
        }
        let gemm = ModelBuilder.node("Gemm", ["x", "w"], ["y"], name: "fc", attrs: [ModelBuilder.int("transB", 1)])
        XCTAssertEqual(try error(gemm, [2, 3, 4], initializers: [ModelBuilder.tensor("w", [5, 12], Array(repeating: 1, count: 60))]),
                       "node fc (Gemm): Gemm needs 2-D inputs (ONNX Gemm; a Flatten before it makes A 2-D), got [2, 3, 4] and [5, 12]")
        let pool = ModelBuilder.node("MaxPool", ["x"], ["y"], name: "p",
                                     attrs: [ModelBuilder.ints("kernel_shape", [2, 2]), ModelBuilder.ints("pads", [0, 0, 0, 2])])
        XCTAssertEqual(try error(pool, [1, 1, 4, 4]),
                       "node p (MaxPool): attribute 'pads': pad 2 is not smaller than the kernel's 2 (pads [0, 0, 0, 2], kernel_shape [2, 2])")
        let squeeze = ModelBuilder.node("Squeeze", ["x"], ["y"], name: "s", attrs: [ModelBuilder.ints("axes", [0])])
        XCTAssertEqual(try error(squeeze, [1, 1, 4]),
                       "node s (Squeeze): attribute 'axes': from opset 13 axes is an input, not an attribute (the model's opset is 13)")
    }

    /// Two nodes writing the same tensor are refused (onnxruntime refuses them too).
    func testTensorProducedTwice() throws {
        let proto = ModelBuilder.model(nodes: [ModelBuilder.node("Relu", ["x"], ["y"], name: "r"), ModelBuilder.node("Neg", ["x"], ["y"], name: "n")],
                                       inputs: [ModelBuilder.valueInfo("x", [1, 4])], outputs: [ModelBuilder.valueInfo("y", [1, 4])])
        XCTAssertEqual(try loadError(proto),
                       "invalid model: node n (Neg): output 'y' is already produced by another node, an input or an initializer")
    }

    /// What ONNX defines once is refused when given twice (onnxruntime refuses these models too):
    /// an initializer name, a node attribute, the default-domain opset, a tensor's data field.
    func testDefinitionsGivenTwiceAreRefused() throws {
        let relu = ModelBuilder.node("Relu", ["x"], ["y"], name: "r")
        func model(_ nodes: [Onnx_NodeProto] = [], initializers: [Onnx_TensorProto] = []) -> Onnx_ModelProto {
            ModelBuilder.model(nodes: nodes.isEmpty ? [relu] : nodes, inputs: [ModelBuilder.valueInfo("x", [1, 2])],
                               outputs: [ModelBuilder.valueInfo("y", [1, 2])], initializers: initializers)
        }
        let add = ModelBuilder.node("Add", ["x", "w"], ["y"], name: "a")
        XCTAssertEqual(try loadError(model([add], initializers: [ModelBuilder.tensor("w", [2], [1, 2]), ModelBuilder.tensor("w", [2], [3, 4])])),
                       "invalid model: initializer 'w' is given twice (ONNX names each tensor once)")
        let conv = ModelBuilder.node("LeakyRelu", ["x"], ["y"], name: "l", attrs: [ModelBuilder.int("alpha", 1), ModelBuilder.int("alpha", 2)])
        XCTAssertEqual(try loadError(model([conv])), "node l: attribute 'alpha': given twice")
        var twoOpsets = model()
        var o = Onnx_OperatorSetIdProto()
        o.version = 17
        twoOpsets.opsetImport.append(o)
        XCTAssertEqual(try loadError(twoOpsets), "invalid model: the default domain is imported 2 times (opsets 13, 17)")
        var both = ModelBuilder.tensor("w", [2], [1, 2])
        both.rawData = Data(count: 8)
        XCTAssertEqual(try loadError(model([add], initializers: [both])),
                       "invalid model: tensor 'w': both raw_data and float_data hold values (ONNX: one of them)")
    }

    /// Dropout runs as inference: training mode (random) and a ratio outside [0, 1) are refused.
    func testDropoutInTrainingModeOrWithABadRatioIsRefused() throws {
        func model(_ inputs: [String], _ initializers: [Onnx_TensorProto], attrs: [Onnx_AttributeProto] = [], opset: Int64 = 13) -> Onnx_ModelProto {
            ModelBuilder.model(nodes: [ModelBuilder.node("Dropout", inputs, ["y"], name: "d", attrs: attrs)],
                               inputs: [ModelBuilder.valueInfo("x", [1, 2])], outputs: [ModelBuilder.valueInfo("y", [1, 2])],
                               initializers: initializers, opset: opset)
        }
        var training = Onnx_TensorProto()
        training.name = "t"; training.dataType = Int32(Onnx_TensorProto.DataType.bool.rawValue); training.int32Data = [1]
        XCTAssertEqual(try loadError(model(["x", "", "t"], [training])),
                       "node d (Dropout): attribute 'training_mode': must be a constant false: Octet runs inference (training-mode Dropout is random)")
        XCTAssertEqual(try loadError(model(["x", "r"], [ModelBuilder.tensor("r", [], [2])])),
                       "node d (Dropout): attribute 'ratio': 2.0 is outside [0, 1)")
        var ratio = Onnx_AttributeProto()
        ratio.name = "ratio"; ratio.type = .float; ratio.f = -0.5
        XCTAssertEqual(try loadError(model(["x"], [], attrs: [ratio], opset: 11)), "node d (Dropout): attribute 'ratio': -0.5 is outside [0, 1)")
        training.int32Data = [0]
        XCTAssertNoThrow(try Model.load(path: try ModelBuilder.write(model(["x", "", "t"], [training]))))
    }
}
