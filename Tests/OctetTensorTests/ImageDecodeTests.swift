import Foundation
@testable import OctetTensor
import XCTest

/// JPEG/PNG decoding through CImageIO on fixtures written by scripts/make-image-fixtures,
/// whose pixel values are fixed in that script.
final class ImageDecodeTests: XCTestCase {
    static let images = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/images").path
    func path(_ rel: String) -> String { (Self.images as NSString).appendingPathComponent(rel) }

    func assertThrows(_ body: @autoclosure () throws -> Any, contains parts: [String],
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let text = "\(error)"
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' lacks '\(p)'", file: file, line: line) }
        }
    }

    func testPNGExactRGBValues() throws {
        let img = try ImageDecoder.decode(path: path("decode/rgb_4x3.png"))
        XCTAssertEqual(img.width, 4)
        XCTAssertEqual(img.height, 3)
        for y in 0..<3 {
            for x in 0..<4 {
                XCTAssertEqual(img[x, y, 0], UInt8(10 * x + 1))
                XCTAssertEqual(img[x, y, 1], UInt8(20 * y + 2))
                XCTAssertEqual(img[x, y, 2], UInt8(30 + x + 4 * y))
            }
        }
    }

    func testGrayPNGExpandsToRGB() throws {
        let img = try ImageDecoder.decode(path: path("decode/gray_2x2.png"))
        XCTAssertEqual(img.pixels, [0, 0, 0, 64, 64, 64, 128, 128, 128, 255, 255, 255])
    }

    func testRGBAPNGDropsAlphaWithoutCompositing() throws {
        let img = try ImageDecoder.decode(path: path("decode/rgba_2x1.png"))
        XCTAssertEqual(img.pixels, [255, 0, 0, 0, 0, 255])
    }

    func testConstantJPEGWithinTwoLevels() throws {
        let img = try ImageDecoder.decode(path: path("decode/const_16x16.jpg"))
        XCTAssertEqual([img.width, img.height], [16, 16])
        let expected: [Int] = [200, 100, 50]
        for i in 0..<(16 * 16) {
            for c in 0..<3 { XCTAssertLessThanOrEqual(abs(Int(img.pixels[i * 3 + c]) - expected[c]), 2, "pixel \(i) channel \(c)") }
        }
    }

    func testHeaderSizeWithoutDecoding() throws {
        let s = try ImageDecoder.size(path: path("decode/rgb_4x3.png"))
        XCTAssertEqual([s.width, s.height], [4, 3])
        let j = try ImageDecoder.size(path: path("decode/const_16x16.jpg"))
        XCTAssertEqual([j.width, j.height], [16, 16])
    }

    func testFormatBySignatureNotExtension() throws {
        let png = try Data(contentsOf: URL(fileURLWithPath: path("decode/rgb_4x3.png")))
        let img = try ImageDecoder.decode(data: png, name: "renamed.jpg")
        XCTAssertEqual(img[3, 2, 0], 31)
    }

    func testTruncatedJPEGThrowsNamingFile() {
        let p = path("errors/truncated.jpg")
        // The header is intact: the size reads, the full decode fails.
        XCTAssertNoThrow(try ImageDecoder.size(path: p))
        assertThrows(try ImageDecoder.decode(path: p), contains: ["truncated.jpg", "corrupt image", "Premature end"])
    }

    func testJPEGCutInsideHeaderThrows() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path("decode/const_16x16.jpg")))
        assertThrows(try ImageDecoder.decode(data: bytes.prefix(40), name: "cut.jpg"), contains: ["cut.jpg", "corrupt image"])
    }

    func testTruncatedPNGThrows() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path("decode/rgb_4x3.png")))
        assertThrows(try ImageDecoder.decode(data: bytes.prefix(bytes.count - 20), name: "cut.png"), contains: ["cut.png", "corrupt image"])
    }

    func testTextFileNamedPNGThrows() {
        assertThrows(try ImageDecoder.decode(path: path("errors/not_an_image.png")),
                     contains: ["not_an_image.png", "not a JPEG or PNG file"])
        assertThrows(try ImageDecoder.size(path: path("errors/not_an_image.png")), contains: ["not_an_image.png"])
    }

    func testEmptyAndMissingFiles() {
        assertThrows(try ImageDecoder.decode(data: Data(), name: "empty.png"), contains: ["empty.png", "empty file"])
        XCTAssertThrowsError(try ImageDecoder.decode(path: path("decode/missing.png"))) { error in
            XCTAssertEqual(error as? OctetTensorError, .fileNotFound(self.path("decode/missing.png")))
        }
    }

    func testCorruptPNGDataAfterValidHeader() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path("decode/rgb_4x3.png"))))
        // Flip bytes inside the IDAT payload: the zlib stream or CRC check must fail.
        let idat = (0..<bytes.count - 4).first { bytes[$0..<$0 + 4].elementsEqual("IDAT".utf8) }!
        for k in 4..<10 { bytes[idat + k] ^= 0xFF }
        assertThrows(try ImageDecoder.decode(data: Data(bytes), name: "flipped.png"), contains: ["flipped.png", "corrupt image"])
    }
}
