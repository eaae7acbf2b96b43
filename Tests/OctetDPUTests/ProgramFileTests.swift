import Foundation
import OctetGraph
import OctetTensor
import XCTest
@testable import OctetDPU
import OctetTestSupport

final class ProgramFileTests: XCTestCase {
    var dir: String!
    override func setUpWithError() throws {
        dir = Scratch.directory("dpu").path
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func program() throws -> Program { try Compiler.compile(try HandBuiltChainTests.chain()) }

    func testSaveLoadRoundTripsExactly() throws {
        let p = try program()
        let path = dir + "/chain.octprog"
        try ProgramFile.save(p, to: path)
        let q = try ProgramFile.load(path: path, target: .default)
        XCTAssertEqual(q, p)
        XCTAssertEqual(try Emulator(program: q).run(["x": HandBuiltChainTests.x], capture: true).tensors["y"]?.codes.int8s, [4])
        // No temporary file is left beside the program.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["chain.octprog"])
    }

    func testHeaderLayout() throws {
        let d = try ProgramFile.encode(try program())
        XCTAssertEqual(Array(d.prefix(8)), Array("OCTPROG\0".utf8))
        XCTAssertEqual(d.readLE(UInt32.self, at: 8), 1)
        XCTAssertEqual(Int(d.readLE(UInt64.self, at: 12)), d.count - 24)
        // CRC-32 check value of "123456789" (IEEE): 0xCBF43926.
        XCTAssertEqual(CRC32.checksum(Data("123456789".utf8)), 0xCBF4_3926)
    }

    /// A payload with a valid checksum whose node lost its inputs (the emulator read them
    /// unchecked: SIGSEGV) is a corrupt file.
    func testNodeWithoutInputsIsCorrupt() throws {
        var p = try program()
        p.graph.nodes[0].inputs = []
        let node = p.graph.nodes[0]
        XCTAssertThrowsError(try ProgramFile.decode(try ProgramFile.encode(p), path: "p")) {
            XCTAssertEqual("\($0)", "p: corrupt program file: node \(node.name) (\(node.opType)) has 0 inputs and \(node.outputs.count) outputs")
        }
    }

    func testCorruptTruncatedWrongVersionAndWrongTargetFiles() throws {
        let good = try ProgramFile.encode(try program())
        var flipped = good
        flipped[good.count - 5] ^= 0x40
        XCTAssertThrowsError(try ProgramFile.decode(flipped, path: "p")) { XCTAssertEqual("\($0)", "p: corrupt program file: payload checksum mismatch") }
        XCTAssertThrowsError(try ProgramFile.decode(good.prefix(good.count - 10), path: "p")) {
            XCTAssertEqual($0 as? OctetDPUError, .truncatedFile(path: "p", expected: good.count - 24, found: good.count - 34))
        }
        XCTAssertThrowsError(try ProgramFile.decode(good.prefix(10), path: "p")) { XCTAssertTrue("\($0)".contains("header shorter"), "\($0)") }
        XCTAssertThrowsError(try ProgramFile.decode(Data("not a program at all, just text".utf8), path: "p")) {
            XCTAssertTrue("\($0)".contains("missing the OCTPROG magic"), "\($0)")
        }
        var v2 = good
        v2[8] = 2
        XCTAssertThrowsError(try ProgramFile.decode(v2, path: "p")) {
            XCTAssertEqual("\($0)", "p: program format version 2 is not supported (this build reads version 1)")
        }
        let path = dir + "/p.octprog"
        try good.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ProgramFile.load(path: path, target: .dpuczdx8gISA1B512)) {
            XCTAssertEqual($0 as? OctetDPUError, .targetMismatch(program: "DPUCZDX8G_ISA1_B4096", expected: "DPUCZDX8G_ISA1_B512"))
        }
        XCTAssertThrowsError(try ProgramFile.load(path: dir + "/missing.octprog")) { XCTAssertTrue("\($0)".hasSuffix("missing.octprog: no such file"), "\($0)") }
        XCTAssertThrowsError(try ProgramFile.load(path: dir)) { XCTAssertTrue("\($0)".hasSuffix(": is a folder, not a file"), "\($0)") }
    }

    /// Dump file names stay short (node names of any length) and distinct.
    func testDumpFileNamesAreShortAndUnique() {
        var names = GoldenDump.FileNames()
        let long = String(repeating: "é", count: 300)
        let a = names.unique(long), b = names.unique(long), c = names.unique("a/b"), d = names.unique("a_b")
        XCTAssertLessThanOrEqual(a.utf8.count, 100)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual([c, d], ["a_b", "a_b_2"])
    }

    func testGoldenDumpAndCompare() throws {
        let p = try program()
        let a = dir + "/a", b = dir + "/b"
        let m = try GoldenDump.write(p, feeds: ["x": HandBuiltChainTests.x], to: a)
        XCTAssertEqual(m.nodes.map(\.node), ["conv", "add", "gap"])
        XCTAssertEqual(m.nodes.map(\.fixPos), [4, 3, 2])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a + "/int8/add.bin")).map { Int8(bitPattern: $0) }, [8, -6, 23, 3])
        XCTAssertEqual(try NPY.read(path: a + "/int8/conv.npy").int8s, [8, 0, 26, 2])
        XCTAssertEqual(try NPY.read(path: a + "/params/param_W.npy").int8s, [96])
        // Float model: relu(1.5x − 0.28125) + x, mean → 1.0 on the float graph too.
        XCTAssertEqual(try NPY.read(path: a + "/float/gap.npy").floats.first!, ((0.46875 + 1.59375 + 0.09375) + 0.5 - 0.75 + 1.25 + 0.25) / 4, accuracy: 1e-6)
        try GoldenDump.write(p, feeds: ["x": HandBuiltChainTests.x], to: b)
        XCTAssertNil(try GoldenDump.compare(a, b).firstDivergence)
        // Corrupt one value of the add output: add diverges first, gap is untouched in the files.
        let addNPY = try NPY.read(path: b + "/int8/add.npy")
        try Data([8, 0xFA, 23, 4]).write(to: URL(fileURLWithPath: b + "/int8/add.bin"))
        XCTAssertThrowsError(try GoldenDump.compare(a, b)) {  // the .npy beside it still holds the old values
            XCTAssertEqual("\($0)", "\(b)/int8/add.npy: holds other values than add.bin beside it")
        }
        try NPY.write(Tensor(shape: addNPY.shape, int8s: [8, -6, 23, 4]), path: b + "/int8/add.npy")
        let c = try GoldenDump.compare(a, b)
        XCTAssertEqual(c.firstDivergence, "add")
        XCTAssertEqual(c.nodes.filter { !$0.parameter }.map(\.mismatches), [0, 1, 0])
        XCTAssertEqual(c.nodes.filter(\.parameter).map(\.mismatches), Array(repeating: 0, count: m.parameters.count))
        // A changed weight is a difference too, reported after the node outputs.
        try Data([97]).write(to: URL(fileURLWithPath: a + "/params/param_W.bin"))
        try NPY.write(Tensor(shape: [1, 1, 1, 1], int8s: [97]), path: a + "/params/param_W.npy")
        let w = try GoldenDump.compare(a, b)
        XCTAssertEqual(w.nodes.filter { $0.mismatches > 0 }.map(\.node), ["add", "W"])
        XCTAssertTrue(w.summary.contains("  parameter W (W): 1/1"), w.summary)
        try Data([96]).write(to: URL(fileURLWithPath: a + "/params/param_W.bin"))
        try NPY.write(Tensor(shape: [1, 1, 1, 1], int8s: [96]), path: a + "/params/param_W.npy")
        XCTAssertThrowsError(try GoldenDump.compare(a, dir + "/none")) { XCTAssertTrue("\($0)".hasSuffix("/none: no such folder"), "\($0)") }
        try FileManager.default.createDirectory(atPath: dir + "/plain", withIntermediateDirectories: true)
        XCTAssertThrowsError(try GoldenDump.compare(a, dir + "/plain")) { XCTAssertTrue("\($0)".contains("no manifest.json"), "\($0)") }
        // A dump listing fewer nodes: the nodes only the other has count as missing, both ways.
        var short = try GoldenDump.manifest(b)
        short.nodes = [short.nodes[0]]
        try JSONEncoder().encode(short).write(to: URL(fileURLWithPath: b + "/manifest.json"))
        for (x, y) in [(b, a), (a, b)] {
            let r = try GoldenDump.compare(x, y)
            XCTAssertEqual(r.firstDivergence, "add", "\(x) vs \(y)")
            XCTAssertEqual(r.nodes.filter { $0.note != nil }.map(\.node), ["add", "gap"])
        }
        // Invalid shapes are refused, naming the node.
        for shape in [[-1, 2, 2, 1], [4294967296, 4294967296, 1, 1]] {
            short.nodes[0].shape = shape
            try JSONEncoder().encode(short).write(to: URL(fileURLWithPath: b + "/manifest.json"))
            XCTAssertThrowsError(try GoldenDump.compare(a, b)) { XCTAssertTrue("\($0)".contains("node conv: invalid shape"), "\($0)") }
        }
        // Files outside the folder and nodes listed twice are refused.
        var outside = try GoldenDump.manifest(a)
        outside.nodes[0].file = "../a/int8/conv.bin"
        try JSONEncoder().encode(outside).write(to: URL(fileURLWithPath: b + "/manifest.json"))
        XCTAssertThrowsError(try GoldenDump.compare(a, b)) { XCTAssertTrue("\($0)".contains("is not inside the dump folder"), "\($0)") }
        var twice = try GoldenDump.manifest(a)
        twice.nodes.append(twice.nodes[0])
        try JSONEncoder().encode(twice).write(to: URL(fileURLWithPath: b + "/manifest.json"))
        XCTAssertThrowsError(try GoldenDump.compare(a, b)) { XCTAssertTrue("\($0)".contains("node conv (") && "\($0)".contains("listed twice"), "\($0)") }
        // The same for the parameters.
        var params = try GoldenDump.manifest(a)
        params.parameters.append(params.parameters[0])
        try JSONEncoder().encode(params).write(to: URL(fileURLWithPath: b + "/manifest.json"))
        XCTAssertThrowsError(try GoldenDump.compare(a, b)) { XCTAssertTrue("\($0)".contains("parameter ") && "\($0)".contains("listed twice"), "\($0)") }
        params = try GoldenDump.manifest(a)
        params.parameters[0].file = "../a/params/param_W.bin"
        try JSONEncoder().encode(params).write(to: URL(fileURLWithPath: b + "/manifest.json"))
        XCTAssertThrowsError(try GoldenDump.compare(a, b)) { XCTAssertTrue("\($0)".contains("is not inside the dump folder"), "\($0)") }
        // A truncated data file is named, whichever side it is on (not the healthy one).
        try JSONEncoder().encode(try GoldenDump.manifest(a)).write(to: URL(fileURLWithPath: b + "/manifest.json"))
        let healthy = try Data(contentsOf: URL(fileURLWithPath: b + "/int8/add.bin"))
        try healthy.prefix(2).write(to: URL(fileURLWithPath: b + "/int8/add.bin"))
        for (x, y) in [(a, b), (b, a)] {
            XCTAssertThrowsError(try GoldenDump.compare(x, y)) {
                XCTAssertTrue("\($0)".contains(b + "/int8/add.bin") && "\($0)".contains("2 bytes, the manifest's shape"), "\($0)")
            }
        }
        try healthy.write(to: URL(fileURLWithPath: b + "/int8/add.bin"))
        // A fix_pos that is not an integer is named as such, not as invalid JSON.
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: a + "/manifest.json"))) as! [String: Any]
        var nodes = json["nodes"] as! [[String: Any]]
        nodes[0]["fix_pos"] = 5.7
        json["nodes"] = nodes
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: b + "/manifest.json"))
        XCTAssertThrowsError(try GoldenDump.compare(a, b)) { XCTAssertTrue("\($0)".contains("a number does not fit its field"), "\($0)") }
        // A folder of other files is not replaced by a dump.
        try FileManager.default.createDirectory(atPath: dir + "/other", withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/other/notes.txt"))
        XCTAssertThrowsError(try GoldenDump.write(p, feeds: ["x": HandBuiltChainTests.x], to: dir + "/other"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/other"), ["notes.txt"])
        // Not comparable: inputs of other shapes, or no node output in common.
        var otherInput = try GoldenDump.manifest(a)
        otherInput.inputShapes["x"] = [2, 1, 2, 2]
        try JSONEncoder().encode(otherInput).write(to: URL(fileURLWithPath: b + "/manifest.json"))
        XCTAssertThrowsError(try GoldenDump.compare(a, b)) { XCTAssertTrue("\($0)".contains("its inputs have other shapes than \(a)'s (x [2, 1, 2, 2] vs x [1, 1, 2, 2]): not comparable"), "\($0)") }
        var renamed = try GoldenDump.manifest(a)
        for i in renamed.nodes.indices { renamed.nodes[i].node += "_other" }
        try JSONEncoder().encode(renamed).write(to: URL(fileURLWithPath: b + "/manifest.json"))
        XCTAssertThrowsError(try GoldenDump.compare(a, b)) { XCTAssertTrue("\($0)".contains("no node output in common"), "\($0)") }
    }

    /// A batch larger than the program's batch size is dumped in chunks, the float twins too
    /// (a graph with a fixed batch of 1 cannot run 3 samples at once): each sample's files are
    /// those of its own dump.
    func testDumpOfSeveralSamplesMatchesOneSampleDumps() throws {
        let p = try program()
        XCTAssertEqual(p.batchSize, 1)
        let x = HandBuiltChainTests.x
        let samples = [x, Tensor(shape: x.shape, floats: x.floats.map { -$0 }), Tensor(shape: x.shape, floats: x.floats.map { $0 * 0.5 })]
        let m = try GoldenDump.write(p, feeds: ["x": try TensorBatch.concat(samples)], to: dir + "/three")
        XCTAssertEqual(m.inputShapes["x"], [3, 1, 2, 2])
        for (k, sample) in samples.enumerated() {
            try GoldenDump.write(p, feeds: ["x": sample], to: dir + "/one\(k)")
            for e in m.nodes {
                let all = try NPY.read(path: dir + "/three/int8/\(e.node).npy"), one = try NPY.read(path: dir + "/one\(k)/int8/\(e.node).npy")
                XCTAssertEqual(TensorBatch.slice(all, start: k, count: 1, padTo: 1), one, "\(e.node) sample \(k)")
                let allF = try NPY.read(path: dir + "/three/float/\(e.node).npy"), oneF = try NPY.read(path: dir + "/one\(k)/float/\(e.node).npy")
                XCTAssertEqual(TensorBatch.slice(allF, start: k, count: 1, padTo: 1), oneF, "\(e.node) float sample \(k)")
            }
        }
    }

    /// A stored shift that its fix positions do not give, an unknown target, and an impossible
    /// payload length are refused (checksums intact), naming the instruction.
    func testInconsistentProgramsAreCorrupt() throws {
        var p = try program()
        let conv = p.instructions.firstIndex { $0.node == "conv" }!
        p.instructions[conv].shiftCut = 100
        XCTAssertThrowsError(try ProgramFile.decode(try ProgramFile.encode(p), path: "p")) {
            XCTAssertTrue("\($0)".contains("instruction conv: stored shift_cut 100 differs from"), "\($0)")
        }
        p = try program()
        p.target = "NOPE"
        XCTAssertThrowsError(try ProgramFile.decode(try ProgramFile.encode(p), path: "p")) { XCTAssertTrue("\($0)".contains("NOPE"), "\($0)") }
        var d = try ProgramFile.encode(try program())
        for k in 12..<20 { d[d.startIndex + k] = 0xFF }
        XCTAssertThrowsError(try ProgramFile.decode(d, path: "p")) {
            XCTAssertTrue("\($0)".contains("announced payload length 18446744073709551615 bytes is impossible"), "\($0)")
        }
    }

    /// A batch size outside 1...Model.maxBatchSize in an otherwise valid file (checksum intact)
    /// is refused before anything is allocated.
    func testBatchSizeOutOfRangeIsCorrupt() throws {
        for bad in [0, Model.maxBatchSize + 1, 1 << 31] {
            var p = try program()
            p.batchSize = bad
            XCTAssertThrowsError(try ProgramFile.decode(try ProgramFile.encode(p), path: "p")) {
                XCTAssertEqual("\($0)", "p: corrupt program file: batch size \(bad) is outside 1...\(Model.maxBatchSize)")
            }
        }
    }
}
