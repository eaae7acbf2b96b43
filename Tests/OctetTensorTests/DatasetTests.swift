import Foundation
@testable import OctetTensor
import XCTest
import OctetTestSupport

/// Dataset loading, views, batching and preprocessing. Expected values are worked by hand from
/// the fixture pixel values in scripts/make-image-fixtures and the formulas in ImagePreprocessing.
final class DatasetTests: XCTestCase {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures").path
    func path(_ rel: String) -> String { (Self.fixtures as NSString).appendingPathComponent(rel) }
    func tmp(_ name: String) -> String {
        Scratch.path(name)
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "counts", file: file, line: line)
        for (i, (x, y)) in zip(a, b).enumerated() where abs(x - y) > tol {
            XCTFail("element \(i): \(x) vs \(y)", file: file, line: line)
            return
        }
    }

    func ramp(_ n: Int) throws -> Dataset {
        try Dataset(samples: Tensor(shape: [n, 1], floats: (0..<n).map(Float.init)), labels: Array(100..<(100 + n)))
    }

    // MARK: seeded order

    func testSplitMix64ReferenceOutputs() {
        // Vigna's splitmix64.c with state 0.
        var rng = SplitMix64(seed: 0)
        XCTAssertEqual([rng.next(), rng.next(), rng.next()], [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
    }

    func testShuffleOrderIsFixedBySeed() throws {
        let d = try ramp(10)
        // Fisher–Yates over SplitMix64 with Lemire bounded draws (computed with a Python reference).
        XCTAssertEqual(try d.shuffled(seed: 0).allSamples().floats, [4, 9, 2, 5, 1, 7, 6, 0, 3, 8])
        XCTAssertEqual(try d.shuffled(seed: 42).allSamples().floats, [8, 3, 6, 5, 4, 0, 9, 2, 1, 7])
        XCTAssertEqual(d.shuffled(seed: 0).labels, [104, 109, 102, 105, 101, 107, 106, 100, 103, 108])
    }

    func testSplitPartitionsShuffledOrder() throws {
        let (a, b) = try ramp(10).split(fraction: 0.7, seed: 0)
        XCTAssertEqual(try a.allSamples().floats, [4, 9, 2, 5, 1, 7, 6])
        XCTAssertEqual(try b.allSamples().floats, [0, 3, 8])
        XCTAssertEqual(b.labels, [100, 103, 108])
    }

    func testTakeSkipAndBatches() throws {
        let d = try ramp(10)
        XCTAssertEqual(try d.take(3).skip(1).allSamples().floats, [1, 2])
        XCTAssertEqual(d.take(100).count, 10)
        XCTAssertEqual(d.skip(12).count, 0)
        let batches = try d.skip(1).batches(of: 4)
        XCTAssertEqual(batches.count, 3)
        let parts = try batches.map { try $0.samples() }
        XCTAssertEqual(parts.map(\.shape), [[4, 1], [4, 1], [1, 1]])
        XCTAssertEqual(parts.flatMap(\.floats), (1..<10).map(Float.init))
        XCTAssertEqual(Array(batches).map { $0.labels! }, [[101, 102, 103, 104], [105, 106, 107, 108], [109]])
    }

    // MARK: mirroring

    /// Three 1×2×3 images 0…5, 6…11, 12…17 with labels 7, 8, 9.
    func images() throws -> Dataset {
        try Dataset(samples: Tensor(shape: [3, 1, 2, 3], floats: (0..<18).map(Float.init)), labels: [7, 8, 9])
    }

    func testMirroringWidthReversesEachRowOfFlaggedSamples() throws {
        let t = Tensor(shape: [2, 1, 2, 3], floats: (1...12).map(Float.init))
        XCTAssertEqual(try TensorBatch.mirroringWidth(t, where: [false, true]).floats, [1, 2, 3, 4, 5, 6, 9, 8, 7, 12, 11, 10])
        XCTAssertThrowsError(try TensorBatch.mirroringWidth(Tensor(shape: [2, 3], floats: Array(repeating: 0, count: 6)), where: [true, true]))
        XCTAssertThrowsError(try TensorBatch.mirroringWidth(t, where: [true]))
    }

    func testMirroredAppendsMirrorsThroughTakeSkipShuffleAndBatches() throws {
        let m = try images().mirrored()
        XCTAssertEqual(m.count, 6)
        XCTAssertEqual(m.labels, [7, 8, 9, 7, 8, 9])
        XCTAssertEqual(try m.skip(3).take(1).allSamples().floats, [2, 1, 0, 5, 4, 3])
        XCTAssertEqual(try m.take(2).allSamples().floats, (0..<12).map(Float.init))
        // A batch straddling originals and mirrors.
        let parts = try m.batches(of: 4).map { try $0.samples().floats }
        XCTAssertEqual(parts[0], (0..<18).map(Float.init) + [2, 1, 0, 5, 4, 3])
        XCTAssertEqual(parts[1], [8, 7, 6, 11, 10, 9, 14, 13, 12, 17, 16, 15])
        // The shuffled view keeps each sample's flag: every sample is one image, as is or mirrored.
        let s = m.shuffled(seed: 3)
        let rows = try s.allSamples().floats
        var seen: [[Float]] = []
        for k in 0..<6 {
            let x = Array(rows[(k * 6)..<(k * 6 + 6)]), label = s.labels![k], base = Float((label - 7) * 6)
            let plain = (0..<6).map { base + Float($0) }, flipped = [2, 1, 0, 5, 4, 3].map { base + Float($0) }
            XCTAssertTrue(x == plain || x == flipped, "sample \(k): \(x)")
            seen.append(x)
        }
        XCTAssertEqual(Set(seen.map { $0.map(Int.init) }).count, 6)
        // Mirroring twice: the mirrors of the mirrors are the originals.
        XCTAssertEqual(try m.mirrored().skip(9).allSamples().floats, (0..<18).map(Float.init))
        XCTAssertThrowsError(try ramp(3).mirrored()) { e in
            XCTAssertTrue("\(e)".contains("[C, H, W]"), "\(e)")
        }
    }

    // MARK: arrays

    func testNPZUint8ImagesWithLabels() throws {
        let d = try Dataset.load(path: path("arrays/u8_labels.npz"))
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.sampleShape, [3, 1, 2])
        XCTAssertEqual(d.labels, [7, 3])
        XCTAssertEqual(try d.allSamples().floats, [0, 255, 128, 64, 10, 20, 1, 2, 3, 4, 5, 6])
    }

    func testUint8MeanStdOnUnitScale() throws {
        let p = ImagePreprocessing(normalization: .meanStd(mean: [0.5], std: [0.25], range: .unit))
        let x = try Dataset.npz(path: path("arrays/u8_labels.npz"), preprocessing: p).take(1).allSamples()
        // (u/255 − 0.5) / 0.25
        assertClose(x.floats, [-2, 2, 0.0078431, -0.9960784, -1.8431373, -1.6862745])
    }

    func testUint8MeanStdOnByteScaleAndOffsetScale() throws {
        let byte = ImagePreprocessing(normalization: .meanStd(mean: [100, 50, 0], std: [2, 4, 5], range: .byte))
        let a = try Dataset.npz(path: path("arrays/u8_labels.npz"), preprocessing: byte).take(1).allSamples()
        XCTAssertEqual(a.floats, [-50, 77.5, 19.5, 3.5, 2, 4])
        let off = ImagePreprocessing(normalization: .offsetScale(offset: 127, scale: 128))
        let b = try Dataset.npz(path: path("arrays/u8_labels.npz"), preprocessing: off).take(1).allSamples()
        XCTAssertEqual(b.floats, [-0.9921875, 1, 0.0078125, -0.4921875, -0.9140625, -0.8359375])
    }

    func testUint8BGRAndGrayscale() throws {
        let bgr = try Dataset.npz(path: path("arrays/u8_labels.npz"), preprocessing: ImagePreprocessing(color: .bgr))
        XCTAssertEqual(try bgr.take(1).allSamples().floats, [10, 20, 128, 64, 0, 255])
        let gray = try Dataset.npz(path: path("arrays/u8_labels.npz"), preprocessing: ImagePreprocessing(color: .grayscale))
        XCTAssertEqual(gray.sampleShape, [1, 1, 2])
        // 0.299 R + 0.587 G + 0.114 B of (1, 3, 5) and (2, 4, 6).
        assertClose(try gray.skip(1).allSamples().floats, [2.63, 3.63])
    }

    func testOneChannelUint8Rows() throws {
        let p = ImagePreprocessing(color: .grayscale, normalization: .offsetScale(offset: 127.5, scale: 128))
        let d = try Dataset(samples: Tensor(shape: [2, 2], uint8s: [0, 255, 128, 64]), preprocessing: p)
        XCTAssertEqual(d.sampleShape, [2])
        XCTAssertEqual(try d.allSamples().floats, [-0.99609375, 0.99609375, 0.00390625, -0.49609375])
    }

    func testNPZFloatSamplesUnderKeyXWithFloatLabels() throws {
        let d = try Dataset.load(path: path("arrays/float_x.npz"))
        XCTAssertEqual(d.name, path("arrays/float_x.npz") + ":x")
        XCTAssertEqual(d.labels, [1, 0, 2])
        XCTAssertEqual(try d.allSamples(), Tensor(shape: [3, 4], floats: (0..<12).map(Float.init)))
    }

    func testNPYWithSeparateLabels() throws {
        let s = tmp("s.npy"), l = tmp("l.npy")
        try NPY.write(Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]), path: s)
        try NPY.write(Tensor(shape: [3], int64s: [2, 0, 1]), path: l)
        let d = try Dataset.load(path: s, labelsPath: l)
        XCTAssertEqual(d.labels, [2, 0, 1])
        XCTAssertEqual(try d.samples(1..<3).floats, [3, 4, 5, 6])
    }

    // MARK: image folders

    func testFlatFolderSortedByPathWithoutLabels() throws {
        let d = try Dataset.load(path: path("images/flat"))
        XCTAssertNil(d.labels)
        XCTAssertNil(d.classNames)
        XCTAssertEqual(d.sampleShape, [3, 2, 2])
        let x = try d.allSamples()
        XCTAssertEqual(x.shape, [3, 3, 2, 2])
        XCTAssertEqual(stride(from: 0, to: 36, by: 12).map { x.floats[$0] }, [10, 20, 30])
    }

    func testClassFoldersGiveSortedIndexLabels() throws {
        let d = try Dataset.imageFolder(path: path("images/classes"))
        XCTAssertEqual(d.classNames, ["cat", "dog"])
        XCTAssertEqual(d.labels, [0, 1, 1])
        let x = try d.allSamples().floats
        XCTAssertEqual(Array(x[0..<4]), [0, 4, 8, 12])
        XCTAssertEqual([x[12], x[24]], [100, 200])
    }

    func testBilinearUpscale2x2To4x4() throws {
        let p = ImagePreprocessing(resize: .direct(height: 4, width: 4))
        let x = try Dataset.imageFolder(path: path("images/classes"), preprocessing: p).take(1).allSamples()
        XCTAssertEqual(x.shape, [1, 3, 4, 4])
        // Half-pixel taps for 2 → 4: source x = −0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
        let plane: [Float] = [0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12]
        XCTAssertEqual(x.floats, plane + plane + plane)
    }

    func testBilinearDownscaleAveragesCentre() throws {
        let p = ImagePreprocessing(resize: .direct(height: 1, width: 1))
        let x = try Dataset.imageFolder(path: path("images/classes"), preprocessing: p).take(1).allSamples()
        XCTAssertEqual(x.floats, [6, 6, 6])  // source (0.5, 0.5): mean of 0, 4, 8, 12
    }

    func testShorterSideResizeThenCentreCrop() throws {
        // a.png 2×2 [[1,2],[3,4]] → 4×4, crop rows/cols 1...2; b.png 2×3 [[1,2,3],[4,5,6]] is
        // 4×6 after resize, crop at top 1, left 2.
        let p = ImagePreprocessing(resize: .shorterSide(4, cropHeight: 2, cropWidth: 2))
        let d = try Dataset.imageFolder(path: path("images/mixed"), preprocessing: p)
        let x = try d.allSamples()
        XCTAssertEqual(x.shape, [2, 3, 2, 2])
        XCTAssertEqual(Array(x.floats[0..<4]), [1.75, 2.25, 2.75, 3.25])
        // b: taps x for 3 → 6 at 2, 3: 0.75, 1.25; y for 2 → 4 at 1, 2: 0.25, 0.75.
        XCTAssertEqual(Array(x.floats[12..<16]), [2.5, 3, 4, 4.5])
    }

    func testResizeCropNormalizeMatchesOnnxruntime() throws {
        // Reference: onnxruntime Resize (linear, half_pixel) 30×40 → 20×26, crop at (2, 5),
        // ImageNet mean/std (scripts/make-image-fixtures).
        var p = ImagePreprocessing.imageNet
        p.resize = .shorterSide(20, cropHeight: 16, cropWidth: 16)
        let x = try Dataset.imageFolder(path: path("images/reference"), preprocessing: p).allSamples()
        let ref = try NPY.read(path: path("arrays/photo_40x30_ref.npy"))
        XCTAssertEqual(x.shape, ref.shape)
        assertClose(x.floats, ref.floats, 1e-4)
    }

    func testGeometryMatchesTorchvisionRounding() throws {
        // 500 wide × 375 high, Resize(256): long side int(256·500/375) = 341; CenterCrop(224):
        // top round(32/2) = 16, left round(117/2 = 58.5) = 58 (ties to even).
        let g = try ImageGeometry.make(.shorterSide(256, cropHeight: 224, cropWidth: 224), sourceHeight: 375, sourceWidth: 500, name: "x")
        XCTAssertEqual(g, ImageGeometry(resizedHeight: 256, resizedWidth: 341, top: 16, left: 58, height: 224, width: 224))
    }

    func testGrayscaleAndBGROnDecodedImage() throws {
        let img = RGBImage(width: 1, height: 1, pixels: [255, 0, 100])
        let g = try ImageGeometry.make(.none, sourceHeight: 1, sourceWidth: 1, name: "x")
        var out = [Float](repeating: 0, count: 3)
        let gray = ImagePreprocessing(color: .grayscale)
        ImageTransform.apply(img, geometry: g, preprocessing: gray, plan: gray.plan(channels: 1), into: &out)
        XCTAssertEqual(out[0], 0.299 * 255 + 0.114 * 100, accuracy: 1e-4)  // 87.645
        let bgr = ImagePreprocessing(color: .bgr, normalization: .meanStd(mean: [0.4, 0.5, 0.6], std: [0.2], range: .unit))
        ImageTransform.apply(img, geometry: g, preprocessing: bgr, plan: bgr.plan(channels: 3), into: &out)
        assertClose(out, [(100 / 255 - 0.4) / 0.2, -2.5, (1 - 0.6) / 0.2])
    }

    func testImageNetPresetOnConstantJPEG() throws {
        let dir = tmp("jpeg")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path("images/decode/const_16x16.jpg"), toPath: dir + "/a.jpg")
        var p = ImagePreprocessing.imageNet
        p.resize = .shorterSide(12, cropHeight: 8, cropWidth: 8)
        let x = try Dataset.imageFolder(path: dir, preprocessing: p).allSamples()
        XCTAssertEqual(x.shape, [1, 3, 8, 8])
        let expected: [Float] = [(200 / 255 - 0.485) / 0.229, (100 / 255 - 0.456) / 0.224, (50 / 255 - 0.406) / 0.225]
        for c in 0..<3 {
            for v in x.floats[(c * 64)..<((c + 1) * 64)] { XCTAssertEqual(v, expected[c], accuracy: 2.5 / 255 / 0.224) }
        }
    }
}
