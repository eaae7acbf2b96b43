import Foundation
import OctetTensor
import XCTest
import OctetTestSupport

/// .npy/.npz I/O against byte layouts from the NumPy format spec (NEP 1); the .npz fixtures are
/// written and checked by numpy (scripts/make-image-fixtures).
final class NPYTests: XCTestCase {
    static let arrays = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/arrays").path
    func fixture(_ name: String) -> String { (Self.arrays as NSString).appendingPathComponent(name) }

    func tmp(_ name: String) -> String {
        Scratch.path(name)
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

    /// The header dictionary holds exactly 'descr', 'fortran_order' and 'shape'; a structured
    /// dtype (as `np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')])` saves) is named as such.
    func testHeaderDictionaryIsCheckedKeyByKey() throws {
        func decode(_ header: String) -> String {
            var h = header
            h += String(repeating: " ", count: 128 - 10 - h.utf8.count - 1) + "\n"
            var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.utf8.count), 0])
            d.append(contentsOf: Array(h.utf8))
            d.append(contentsOf: [0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f])
            return msg { _ = try NPY.decode(d, name: "t.npy") }
        }
        XCTAssertEqual(decode("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }"), "t.npy: unexpected header key 'extra'")
        XCTAssertEqual(decode("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }"),
                       "t.npy: structured dtype [('a', '<f4'), ('b', '<i4')] is not supported (one plain dtype per array)")
        XCTAssertEqual(decode("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }"), "t.npy: header 'fortran_order' is Maybe, not True or False")
        XCTAssertEqual(decode("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"), "t.npy: header key 'descr' is given twice")
        XCTAssertEqual(decode("{'descr': '<f4', 'fortran_order': False, }"), "t.npy: header has no 'shape'")
        XCTAssertEqual(decode("{'fortran_order': False, 'shape': (2,), 'descr': '<f4'}"), "no error")   // any key order, last comma optional
    }

    /// Stored (`np.savez`) and deflate (`np.savez_compressed`) members, a ZIP64 central directory
    /// and a deflate stream whose bytes end without a final block, all as numpy reads them.
    func testReadsNpzArchives() throws {
        let stored = try NPY.readArchive(path: fixture("u8_labels.npz"))
        XCTAssertEqual(stored["labels"]?.int64s, [7, 3])
        XCTAssertEqual(stored["images"]?.shape, [2, 3, 1, 2])
        XCTAssertEqual(stored["images"]?.uint8s, [0, 255, 128, 64, 10, 20, 1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try NPY.readArchive(path: fixture("float_x.npz"))["y"]?.floats, [1, 0, 2])
        for name in ["float_x.npz", "zip64.npz", "unterminated.npz"] {
            let x = try NPY.readArchive(path: fixture(name))["x"]
            XCTAssertEqual(x?.shape, [3, 4], name)
            XCTAssertEqual(x?.floats, (0..<12).map(Float.init), name)
        }
        XCTAssertTrue(msg { _ = try NPY.readArchive(path: tmp("missing.npz")) }.contains("no such file"))
        XCTAssertTrue(msg { _ = try NPY.read(path: fixture("float_x.npz")) }.hasSuffix("float_x.npz: is an .npz archive, not a .npy file"))
    }

    /// numpy's keys: a member named exactly `x` wins over `x.npy` in either order; a text member
    /// and an empty deflate member hold no array and are left out.
    func testNpzKeysFollowNumpy() throws {
        for name in ["bare_first.npz", "bare_last.npz"] {
            let arrays = try NPY.readArchive(path: fixture(name))
            XCTAssertEqual(Set(arrays.keys), ["x"], name)
            XCTAssertEqual(arrays["x"]?.floats, (0..<12).map { Float($0) * 2 }, name)
        }
    }

    /// A member name given twice (numpy silently reads the last) is refused, naming it.
    func testDuplicateNpzMemberIsRefused() throws {
        XCTAssertTrue(msg { _ = try NPY.readArchive(path: fixture("duplicate_member.npz")) }
            .hasSuffix("duplicate_member.npz: member x.npy appears twice (which one is the array is ambiguous)"))
    }

    /// A corrupt member is an error naming the file and the member: never garbage, and never a
    /// loop on a deflate stream that does not end within its compressed bytes (`truncated.npz`).
    func testCorruptNpzMembersAreRefused() throws {
        let npyBytes = 128 + 12 * 4
        for (name, expected) in [("bad_crc.npz", "member x.npy fails its CRC-32 check (stored "),
                                 ("truncated.npz", "member x.npy ends after "),
                                 ("bad_deflate.npz", "member x.npy is corrupt: invalid block type"),
                                 ("oversized.npz", "member x.npy inflates to more than the \(npyBytes - 8) bytes it declares")] {
            let m = msg { _ = try NPY.readArchive(path: fixture(name)) }
            XCTAssertTrue(m.hasPrefix("\(fixture(name)): \(expected)"), m)
        }
        XCTAssertEqual(msg { _ = try NPY.readArchive(path: fixture("name_overrun.npz")) },
                       "\(fixture("name_overrun.npz")): corrupt zip archive: bad central directory entry 0")
        let npy = tmp("plain.npy")
        try NPY.write(Tensor(shape: [1], floats: [1]), path: npy)
        XCTAssertEqual(msg { _ = try NPY.readArchive(path: npy) }, "\(npy): not a zip (.npz) archive")
        // An end-of-central-directory record whose one 46-byte entry would run past the file.
        let eocd = tmp("eocd.npz")
        try Data([0x50, 0x4B, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0, 46, 0, 0, 0, 0, 0, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: eocd))
        XCTAssertEqual(msg { _ = try NPY.readArchive(path: eocd) }, "\(eocd): corrupt zip archive: bad central directory")
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

    /// A folder given as a .npz archive is refused.
    func testFolderIsNotAnArchive() throws {
        let dir = Scratch.path("folder.npz")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(msg { _ = try NPY.readArchive(path: dir) }, "\(dir): is a folder, not a file")
    }
}
