import Foundation
import XCTest
@testable import OctetScript
import OctetTestSupport

/// Runs each tutorial top to bottom as `octet run tutorial --notebook out/x.md` does (working
/// directory: a fresh temporary folder, so `out/` lands there) and checks the numbers it prints.
/// The float accuracy 97.40 % (487/500) is onnxruntime's (tutorials/data/README.md).
final class TutorialTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Run {
        var code: Int32
        var lines: [String]
        var errors: String
        var dir: URL
        var notebook: String
    }

    func run(_ name: String) throws -> Run {
        let script = Self.root.appendingPathComponent("tutorials/\(name).octet").path
        let dir = Scratch.directory("tutorial-\(name)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        let saved = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir.path), "cannot enter \(dir.path)")
        defer { _ = FileManager.default.changeCurrentDirectoryPath(saved) }
        let result = Interpreter.onLargeStack { () -> (Int32, String, String) in
            var printed = "", errors = ""
            let interp = Interpreter(seed: 0, output: { printed += $0 })
            let code = ScriptRunner.run(path: script, notebook: "out/\(name).md", interpreter: interp) { errors += $0 + "\n" }
            return (code, printed, errors)
        }
        let notebook = (try? String(contentsOfFile: dir.appendingPathComponent("out/\(name).md").path, encoding: .utf8)) ?? ""
        return Run(code: result.0, lines: result.1.split(separator: "\n").map(String.init), errors: result.2, dir: dir, notebook: notebook)
    }

    /// The first printed line starting with `prefix`, without it.
    func value(_ r: Run, _ prefix: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard let l = r.lines.first(where: { $0.hasPrefix(prefix) }) else {
            XCTFail("no line starting with '\(prefix)' in:\n" + r.lines.joined(separator: "\n"), file: file, line: line)
            return ""
        }
        return String(l.dropFirst(prefix.count))
    }

    func testQuickstart() throws {
        let r = try run("01-quickstart")
        XCTAssertEqual(r.code, 0, r.errors)
        XCTAssertEqual(value(r, "float accuracy "), "97.40 %")
        let int8 = value(r, "int8 accuracy "), emulator = value(r, "emulator accuracy ")
        XCTAssertEqual(int8, emulator, "quantized and emulator accuracy must be identical")
        XCTAssertEqual(int8, TutorialExpectations.quickstartInt8)
        XCTAssertEqual(value(r, "max |emulator - int8| over the test set: "), "0.0")
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.dir.appendingPathComponent("out/digits_cnn.octprog").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.dir.appendingPathComponent("out/digits_cnn.quant.json").path))
        XCTAssertTrue(r.notebook.contains("| float | 97.40 |"), "notebook comparison table:\n\(r.notebook)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.dir.appendingPathComponent("out/01-quickstart-1.svg").path))
    }

    func testCalibrationMethods() throws {
        let r = try run("02-calibration-methods")
        XCTAssertEqual(r.code, 0, r.errors)
        let rows = r.lines.filter { $0.contains(" accuracy ") && $0.contains("deployable") }
        XCTAssertEqual(rows.count, 6, r.lines.joined(separator: "\n"))
        for (method, deployable) in [("diffs", true), ("minmse", true), ("maxmin", true), ("percentile", false), ("mse", false),
                                     ("entropy", false)] {
            let row = rows.first { $0.hasPrefix(method + " ") } ?? ""
            XCTAssertTrue(row.hasSuffix("deployable \(deployable)"), row)
            XCTAssertEqual(TutorialExpectations.number(after: "accuracy", in: row), TutorialExpectations.sweep[method], row)
        }
        XCTAssertTrue(r.notebook.contains("![diffs relu1: fix\\_pos"), r.notebook)   // `_` escaped in alt text
    }

    func testInspectAndDeploy() throws {
        let r = try run("03-inspect-and-deploy")
        XCTAssertEqual(r.code, 0, r.errors)
        XCTAssertEqual(value(r, "B4096 vs B512 outputs, max |diff|: "), "0.0")
        XCTAssertTrue(r.lines.contains { $0.contains("all nodes and parameters identical") }, r.lines.joined(separator: "\n"))
        XCTAssertEqual(value(r, "first diverging node: "), TutorialExpectations.firstDivergence)
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.dir.appendingPathComponent("out/03/digits_qdq.onnx").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.dir.appendingPathComponent("out/03/dump_a/manifest.json").path))
        let accs = value(r, "int8 accuracy ")
        XCTAssertEqual(accs, "\(TutorialExpectations.quickstartInt8.dropLast(2)) %, emulator \(TutorialExpectations.quickstartInt8)")
    }

    func testDebuggingAccuracy() throws {
        let r = try run("04-debugging-accuracy")
        XCTAssertEqual(r.code, 0, r.errors)
        XCTAssertEqual(value(r, "float accuracy "), "97.40 %")
        XCTAssertEqual(value(r, "4-bit accuracy "), TutorialExpectations.fourBit)
        XCTAssertEqual(value(r, "most sensitive layer: "), TutorialExpectations.worstLayer)
        XCTAssertEqual(value(r, "accuracy before "), TutorialExpectations.excluded)
        XCTAssertEqual(value(r, "best layer to keep in float: "), TutorialExpectations.bestExcluded)
    }
}

extension TutorialTests {
    /// CLE keeps the float function (an invariant); the SQNR of each variant is this
    /// implementation's, and AdaRound must end above plain PTQ.
    func testEqualizeAndFinetune() throws {
        let r = try run("05-equalize-and-finetune")
        XCTAssertEqual(r.code, 0, r.errors)
        XCTAssertEqual(value(r, "float accuracy "), "97.40 %")
        XCTAssertEqual(value(r, "max |equalized - float| on the test set below 1e-3: "), "true")
        var sqnr: [String: Double] = [:]
        for (name, expected) in TutorialExpectations.recovery {
            let line = try XCTUnwrap(r.lines.first { $0.hasPrefix(name + " SQNR ") }, r.lines.joined(separator: "\n"))
            sqnr[name] = Double(line.dropFirst(name.count + 6).split(separator: " ")[0])
            XCTAssertEqual(sqnr[name]!, expected, accuracy: 0.005, line)
        }
        XCTAssertGreaterThan(sqnr["AdaRound"]!, sqnr["PTQ (diffs)"]!)
        // The report against the model before AdaRound, on the held-out digits, measures the same
        // output error as the table's direct comparison with the float model.
        let fit = try XCTUnwrap(value(r, "AdaRound output SQNR against the model before it: calibration "))
        XCTAssertTrue(fit.hasSuffix(String(format: "dB, held-out %.2f dB", sqnr["AdaRound"]!)), fit)
    }
}

/// Numbers the tutorials print with this implementation (float accuracy excepted, which is
/// onnxruntime's). A change here is a change of quantization results and must be explained.
enum TutorialExpectations {
    static let quickstartInt8 = "97.60 %"
    static let sweep: [String: Double] = ["diffs": 97.60, "minmse": 97.80, "maxmin": 97.60, "percentile": 97.40, "mse": 97.60,
                                          "entropy": 97.40]
    /// maxmin gives relu1 fix_pos 4 where diffs gives 5: conv1 (which writes relu1) differs first.
    static let firstDivergence = "conv1"
    static let fourBit = "94.40 %"
    static let worstLayer = "conv2"
    static let excluded = "94.40 % after excluding conv2 93.60 %"
    static let bestExcluded = "conv1 SQNR 12.94 dB, accuracy 97.00 %"
    /// Output SQNR (dB) vs float of tutorial 05's variants (seeded AdaQuant/AdaRound).
    static let recovery: [String: Double] = ["PTQ (diffs)": 21.55, "CLE + PTQ": 22.47, "CLE + bias correction": 22.75,
                                             "CLE + AdaQuant": 22.77, "AdaRound": 21.75]

    /// The number following `word` in `line`.
    static func number(after word: String, in line: String) -> Double? {
        let parts = line.split(separator: " ").map(String.init)
        guard let i = parts.firstIndex(of: word), i + 1 < parts.count else { return nil }
        return Double(parts[i + 1])
    }
}
