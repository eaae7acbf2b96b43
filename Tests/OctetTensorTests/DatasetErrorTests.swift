import Foundation
import OctetTensor
import XCTest
import OctetTestSupport

/// Every dataset check throws a clear error naming the file and, where one is at fault, the sample.
final class DatasetErrorTests: XCTestCase {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures").path
    func path(_ rel: String) -> String { (Self.fixtures as NSString).appendingPathComponent(rel) }
    func tmp(_ name: String) -> String {
        Scratch.path(name)
    }

    func assertThrows(_ body: @autoclosure () throws -> Any, _ expected: DatasetError? = nil, contains parts: [String] = [],
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            if let expected { XCTAssertEqual(error as? DatasetError, expected, file: file, line: line) }
            let text = "\(error)"
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' lacks '\(p)'", file: file, line: line) }
        }
    }

    func testEmptySamples() {
        assertThrows(try Dataset(samples: Tensor(zeros: [0, 3]), name: "e.npy"), .empty(source: "e.npy"))
        let dir = tmp("empty")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        assertThrows(try Dataset.imageFolder(path: dir), .empty(source: dir))
        XCTAssertThrowsError(try Dataset(samples: Tensor(shape: [2, 1], floats: [1, 2])).take(0).allSamples())
    }

    func testNaNAndInfNameFirstBadSample() throws {
        var v = [Float](repeating: 0, count: 12)
        v[7] = .nan
        v[11] = .infinity
        let p = tmp("nan.npy")
        try NPY.write(Tensor(shape: [4, 3], floats: v), path: p)
        assertThrows(try Dataset.load(path: p), contains: [p, "sample 2", "nan"])
        v[7] = 0
        try NPY.write(Tensor(shape: [4, 3], floats: v), path: p)
        assertThrows(try Dataset.load(path: p), .nonFinite(source: p, sample: 3, value: .infinity))
    }

    func testLabelCountMismatch() throws {
        assertThrows(try Dataset(samples: Tensor(shape: [2, 1], floats: [1, 2]), labels: [1, 2, 3], name: "s"),
                     .labelCount(source: "s", samples: 2, labels: 3))
        let s = tmp("s.npy"), l = tmp("l.npy")
        try NPY.write(Tensor(shape: [2, 1], floats: [1, 2]), path: s)
        try NPY.write(Tensor(shape: [1], int64s: [0]), path: l)
        assertThrows(try Dataset.npy(path: s, labelsPath: l), .labelCount(source: s, samples: 2, labels: 1))
    }

    func testNonIntegerLabel() throws {
        let s = tmp("s.npy"), l = tmp("l.npy")
        try NPY.write(Tensor(shape: [2, 1], floats: [1, 2]), path: s)
        try NPY.write(Tensor(shape: [2], floats: [0, 1.5]), path: l)
        assertThrows(try Dataset.npy(path: s, labelsPath: l), contains: [l, "sample 1", "1.5"])
    }

    func testUnsupportedFileInFolderAndUnknownExtension() throws {
        assertThrows(try Dataset.load(path: path("images/withtext")), contains: ["notes.txt", "not an image file"])
        let t = tmp("data.csv")
        try Data("1,2\n".utf8).write(to: URL(fileURLWithPath: t))
        assertThrows(try Dataset.load(path: t), contains: ["data.csv", "unsupported file"])
        assertThrows(try Dataset.load(path: path("arrays/missing.npy")))
    }

    func testCorruptImageNamedAtLoad() {
        // errors/ holds not_an_image.png (sorted first) and truncated.jpg.
        assertThrows(try Dataset.load(path: path("images/errors")), contains: ["not_an_image.png", "corrupt image"])
    }

    func testTruncatedImageFailsWhenItsBatchDecodes() throws {
        let d = try Dataset.load(path: path("images/lazybad"))
        XCTAssertEqual(d.count, 2)
        let batches = Array(try d.batches(of: 1))
        XCTAssertEqual(try batches[0].samples().shape, [1, 3, 32, 32])
        assertThrows(try batches[1].samples(), contains: ["lazybad/b.jpg", "corrupt image"])
    }

    func testInconsistentSizesWithoutResize() {
        assertThrows(try Dataset.load(path: path("images/mixed")), contains: ["mixed/b.png", "2×3", "2×2", "mixed/a.png", "resize"])
    }

    /// Output sizes beyond 16 384 per side are refused before any image is decoded or resampled.
    func testResizeBeyondTheLargestSideIsRefused() {
        let huge = ImagePreprocessing(resize: .direct(height: 100_000, width: 100_000))
        assertThrows(try Dataset.imageFolder(path: path("images/flat"), preprocessing: huge), contains: ["100000×100000", "1...16384"])
        let short = ImagePreprocessing(resize: .shorterSide(Int.max, cropHeight: 2, cropWidth: 2))
        assertThrows(try Dataset.imageFolder(path: path("images/flat"), preprocessing: short), contains: ["shorter side", "1...16384"])
    }

    func testCropLargerThanImage() {
        let p = ImagePreprocessing(resize: .centerCrop(height: 3, width: 3))
        assertThrows(try Dataset.imageFolder(path: path("images/flat"), preprocessing: p), contains: ["flat/a.png", "larger than the image"])
    }

    func testBadArraysAndOptions() throws {
        assertThrows(try Dataset(samples: Tensor(shape: [2], int64s: [1, 2]), name: "i"), contains: ["i:", "float32 or uint8", "int64"])
        assertThrows(try Dataset(samples: Tensor(zeros: [2, 4, 4, 3], dtype: .uint8), name: "u"), contains: ["NHWC"])
        assertThrows(try Dataset(samples: Tensor(shape: [1, 1], floats: [1]), preprocessing: ImagePreprocessing(), name: "f"),
                     contains: ["float32 samples are used as stored"])
        let zeroStd = ImagePreprocessing(normalization: .meanStd(mean: [0], std: [0, 1, 1], range: .unit))
        assertThrows(try Dataset.imageFolder(path: path("images/flat"), preprocessing: zeroStd), contains: ["std", "non-zero"])
        let wrongCount = ImagePreprocessing(normalization: .meanStd(mean: [0, 0], std: [1], range: .unit))
        assertThrows(try Dataset.imageFolder(path: path("images/flat"), preprocessing: wrongCount), contains: ["mean has 2 values for 3"])
        let resize = ImagePreprocessing(resize: .direct(height: 2, width: 2))
        assertThrows(try Dataset(samples: Tensor(zeros: [1, 3, 2, 2], dtype: .uint8), preprocessing: resize), contains: ["resize"])
        assertThrows(try Dataset.load(path: path("arrays/no_images.npz")), contains: ["no_images.npz", "images", "weights"])
    }

    func testBadArguments() throws {
        let d = try Dataset(samples: Tensor(shape: [2, 1], floats: [1, 2]))
        assertThrows(try d.batches(of: 0), contains: ["batch size 0"])
        assertThrows(try d.split(fraction: 1, seed: 0), contains: ["fraction 1.0"])
        assertThrows(try d.samples(1..<3), contains: ["outside 0..<2"])
    }
}
