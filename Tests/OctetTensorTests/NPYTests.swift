import Foundation
import OctetTensor
import XCTest
import ZIPFoundation

/// .npy/.npz I/O against byte layouts from the NumPy format spec (NEP 1).
final class NPYTests: XCTestCase {
    func tmp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("octet-npy-\(UUID())-\(name)").path
    }

    func testRoundTripEveryDtype() throws {
        let tensors = [Tensor(shape: [2, 3], floats: [1, -2, 3.5, 0, 1e-3, -7]),
                       Tensor(shape: [4], int8s: [-128, 0, 1, 127]),
                       Tensor(shape: [2, 2], uint8s: [0, 255, 7, 8]),
                       Tensor(shape: [1, 2], int32s: [-70000, 70000]),
                       Tensor(shape: [], int64s: [Int64.min])]
        for t in tensors {
            let p = tmp("rt.npy")
            try NPY.write(t, path: p)
            XCTAssertEqual(try NPY.read(path: p), t)
        }
    }

    func testHeaderIsNumpyVersion1AlignedTo64() throws {
        let d = NPY.encode(Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(Array(d.prefix(8)), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLen = Int(d[8]) | Int(d[9]) << 8
        XCTAssertEqual((10 + headerLen) % 64, 0)
        let header = String(decoding: d[10..<(10 + headerLen)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertEqual(d.count, 10 + headerLen + 24)
    }

    /// A header beyond 65 535 bytes (rank 25 000) is written as version 2.0, as NumPy does, and reads back.
    func testLongHeaderIsVersion2() throws {
        let t = Tensor(shape: [Int](repeating: 1, count: 25_000) + [2], floats: [1.5, -2])
        let d = NPY.encode(t)
        XCTAssertEqual(Array(d.prefix(8)), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0])
        let headerLen = (8..<12).reduce(0) { $0 | Int(d[$1]) << (8 * ($1 - 8)) }
        XCTAssertEqual((12 + headerLen) % 64, 0)
        XCTAssertEqual(d.count, 12 + headerLen + 8)
        let p = tmp("long.npy")
        try NPY.write(t, path: p)
        XCTAssertEqual(try NPY.read(path: p), t)
    }

    func testDecodesHandWrittenFile() throws {
        // A version 1.0 file written byte by byte: int32 [2] = [1, -1].
        var header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }"
        header += String(repeating: " ", count: 128 - 10 - header.count - 1) + "\n"
        var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count), 0])
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
        XCTAssertEqual(try NPY.decode(d, name: "x").int32s, [1, -1])
    }

    func testErrorsNameTheFileAndReason() throws {
        XCTAssertEqual(msg { _ = try NPY.read(path: "/no/such.npy") }, "/no/such.npy: no such file")
        let full = NPY.encode(Tensor(shape: [4], floats: [1, 2, 3, 4]))
        XCTAssertTrue(msg { _ = try NPY.decode(full.prefix(full.count - 3), name: "t.npy") }.contains("truncated data"))
        XCTAssertEqual(msg { _ = try NPY.decode(Data("hello world".utf8), name: "t.npy") }, "t.npy: not a .npy file (bad magic)")
        var f64 = full
        let r = f64.range(of: Data("<f4".utf8))!
        f64.replaceSubrange(r, with: Data("<f8".utf8))
        XCTAssertTrue(msg { _ = try NPY.decode(f64, name: "t.npy") }.contains("unsupported dtype '<f8'"))
        var fortran = full
        let fr = fortran.range(of: Data("False".utf8))!
        fortran.replaceSubrange(fr, with: Data("True ".utf8))
        XCTAssertTrue(msg { _ = try NPY.decode(fortran, name: "t.npy") }.contains("Fortran-order"))
    }

    func testReadsNpzArchive() throws {
        let p = tmp("a.npz")
        let archive = try Archive(url: URL(fileURLWithPath: p), accessMode: .create)
        for (name, t) in [("images", Tensor(shape: [1, 2], floats: [0.5, -0.5])), ("labels", Tensor(shape: [1], int64s: [7]))] {
            let data = NPY.encode(t)
            try archive.addEntry(with: "\(name).npy", type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { pos, size in
                data.subdata(in: Int(pos)..<Int(pos) + size)
            }
        }
        let arrays = try NPY.readArchive(path: p)
        XCTAssertEqual(arrays["images"]?.floats, [0.5, -0.5])
        XCTAssertEqual(arrays["labels"]?.int64s, [7])
        XCTAssertTrue(msg { _ = try NPY.readArchive(path: tmp("missing.npz")) }.contains("no such file"))
    }

    func testAtomicWriteIntoMissingDirectoryFailsCleanly() {
        let m = msg { try NPY.write(Tensor(scalar: 1), path: "/no/such/dir/x.npy") }
        XCTAssertEqual(m, "/no/such/dir/x.npy: cannot write: /no/such/dir is not an existing directory")
    }

    func msg(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    /// A header whose shape overflows the byte count (2⁵⁶ + 4 samples of 64 floats: the product
    /// wraps to a small number) is refused instead of read past the data.
    func testShapeTooLargeForItsBytesIsRefused() throws {
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (72057594037927940, 1, 8, 8), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        d.append(contentsOf: [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: [UInt8](repeating: 0, count: 1024))
        XCTAssertEqual(msg { _ = try NPY.decode(d, name: "w.npy") }, "w.npy: shape [72057594037927940, 1, 8, 8] is too large")
        XCTAssertNil(Tensor.checkedByteCount([1 << 40, 1 << 30]))
        XCTAssertNil(Tensor.checkedByteCount([2, -1]))
        XCTAssertEqual(Tensor.checkedByteCount([2, 3], bytesPerElement: 4), 24)
    }

    /// A folder given as a .npz archive is refused (the zip reader would loop on it).
    func testFolderIsNotAnArchive() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("octet-npz-\(UUID()).npz").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(msg { _ = try NPY.readArchive(path: dir) }, "\(dir): is a directory, not a .npz archive")
    }
}
