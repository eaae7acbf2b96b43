import Foundation
@testable import OctetTensor
import XCTest
import OctetTestSupport

/// `AtomicFile.writeDirectory`: all of the folder or nothing.
final class AtomicFileTests: XCTestCase {
    func tmp() -> String { Scratch.path("atomic") }

    struct Boom: Error {}

    func testFailureLeavesNothingNotEvenCreatedParents() throws {
        let root = tmp()
        let target = root + "/a/b/dump"
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: target, marker: "m") { dir in
            try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/part.bin"))
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root))
    }

    /// `writeAll`: when one file cannot be written (here its folder is missing), no target is
    /// touched and no temporary is left; otherwise every target is replaced.
    func testWriteAllWritesEveryFileOrNone() throws {
        let root = tmp()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: URL(fileURLWithPath: root + "/a.md"))
        XCTAssertThrowsError(try AtomicFile.writeAll([(Data("1".utf8), root + "/a-1.svg"), (Data("new".utf8), root + "/a.md"),
                                                      (Data("2".utf8), root + "/missing/a-2.svg")])) {
            XCTAssertTrue("\($0)".contains("missing/a-2.svg"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["a.md"])
        XCTAssertEqual(try String(contentsOfFile: root + "/a.md", encoding: .utf8), "old")
        try AtomicFile.writeAll([(Data("1".utf8), root + "/a-1.svg"), (Data("new".utf8), root + "/a.md")])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), ["a-1.svg", "a.md"])
        XCTAssertEqual(try String(contentsOfFile: root + "/a.md", encoding: .utf8), "new")
    }

    /// What a signal handler calls: the folder and the files being written go, the previous output stays.
    func testRemoveTemporariesRemovesWhatIsBeingWritten() throws {
        let root = tmp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let target = root + "/dump"
        try AtomicFile.writeDirectory(at: target, marker: "m") { dir in try Data("1".utf8).write(to: URL(fileURLWithPath: dir + "/m")) }
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: target, marker: "m") { dir in
            try Data("2".utf8).write(to: URL(fileURLWithPath: dir + "/m"))
            let parts = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix(".dump.tmp-") }
            XCTAssertEqual(parts.count, 1)
            AtomicFile.removeTemporaries()
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
            throw Boom()
        })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["dump"])
        XCTAssertEqual(try String(contentsOfFile: target + "/m", encoding: .utf8), "1")
        AtomicFile.removeTemporaries()  // nothing pending: nothing removed
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["dump"])
    }

    /// An empty folder may be replaced, unless it is the current folder or holds it.
    func testTheCurrentFolderIsNotReplaced() throws {
        let root = tmp() + "/cwd"
        try FileManager.default.createDirectory(atPath: root + "/inner", withIntermediateDirectories: true)
        let saved = FileManager.default.currentDirectoryPath
        defer { FileManager.default.changeCurrentDirectoryPath(saved) }
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(root + "/inner"))
        for target in [".", "..", root, root + "/inner/"] {
            XCTAssertThrowsError(try AtomicFile.checkDirectoryTarget(target, marker: "m")) {
                XCTAssertTrue("\($0)".contains("it is the current folder or holds it"), "\(target): \($0)")
            }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/inner"))
        XCTAssertNoThrow(try AtomicFile.checkDirectoryTarget(root + "/other", marker: "m"))
    }

    /// The folder a write of several files creates goes again when the write fails.
    func testWriteAllRemovesTheFolderItCreatedOnFailure() throws {
        let root = tmp() + "/made"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let folder = root + "/a/b"
        XCTAssertThrowsError(try AtomicFile.writeAll([(Data("1".utf8), folder + "/x.npy"), (Data("2".utf8), folder + "/missing/y.npy")],
                                                     creatingFolder: folder))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
        try AtomicFile.writeAll([(Data("1".utf8), folder + "/x.npy")], creatingFolder: folder)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["x.npy"])
    }

    /// `withFolder` (the notebook's folder during `octet run --notebook`): kept when the work
    /// succeeds, removed when it throws, and removed by `removeTemporaries` (a signal) meanwhile.
    func testWithFolderRemovesTheFoldersItMadeUnlessTheWorkSucceeds() throws {
        let root = tmp() + "/with"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        XCTAssertThrowsError(try AtomicFile.withFolder(root + "/a/b") { throw Boom() })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
        try AtomicFile.withFolder(root + "/a/b") {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/a/b"))
            AtomicFile.removeTemporaries()
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
        }
        try AtomicFile.withFolder(root + "/c/d") { try Data("1".utf8).write(to: URL(fileURLWithPath: root + "/c/d/n.md")) }
        AtomicFile.removeTemporaries()  // no longer pending: kept
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/c/d"), ["n.md"])
    }

    func testSuccessReplacesAPreviousFolderWhole() throws {
        let root = tmp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let target = root + "/dump"
        try AtomicFile.writeDirectory(at: target, marker: "old.txt") { dir in try Data("1".utf8).write(to: URL(fileURLWithPath: dir + "/old.txt")) }
        try AtomicFile.writeDirectory(at: target, marker: "old.txt") { dir in try Data("2".utf8).write(to: URL(fileURLWithPath: dir + "/new.txt")) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), ["new.txt"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["dump"])  // no temporary left
        // A failed rewrite keeps the previous folder.
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: target, marker: "new.txt") { _ in throw Boom() })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), ["new.txt"])
    }

    /// What a killed writer left (a temporary of a process that no longer runs) is removed by the next
    /// write of the same target; a running process's temporary and other files stay.
    func testLeftoversOfAStoppedWriterAreSwept() throws {
        let root = tmp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/.dump.tmp-2147483646-7/int8", withIntermediateDirectories: true)
        let kept = [".dump.tmp-\(getpid())-9", ".other.tmp-2147483646-7", "notes.txt"]
        for name in kept { try Data().write(to: URL(fileURLWithPath: root + "/" + name)) }
        try Data(".y".utf8).write(to: URL(fileURLWithPath: root + "/.y.npy.tmp-2147483646-1"))
        try AtomicFile.writeDirectory(at: root + "/dump", marker: "m") { dir in try Data().write(to: URL(fileURLWithPath: dir + "/m")) }
        try AtomicFile.write(Data("y".utf8), to: root + "/y.npy")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), (kept + ["dump", "y.npy"]).sorted())
        // A writer stopped between its two renames left the previous folder aside and none in place:
        // it comes back. Beside a folder in place, the previous one is removed.
        try FileManager.default.removeItem(atPath: root + "/dump")
        try FileManager.default.createDirectory(atPath: root + "/.dump.old-2147483646-3", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: root + "/.dump.old-2147483646-3/m"))
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: root + "/dump", marker: "m") { _ in throw Boom() })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/dump"), ["m"])
        try FileManager.default.createDirectory(atPath: root + "/.dump.old-2147483646-4", withIntermediateDirectories: true)
        try AtomicFile.writeDirectory(at: root + "/dump", marker: "m") { dir in try Data().write(to: URL(fileURLWithPath: dir + "/m")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/.dump.old-2147483646-4"))
        // A folder put back is checked as any other: holding a file the output did not write, it
        // is refused, not replaced.
        try FileManager.default.removeItem(atPath: root + "/dump")
        try FileManager.default.createDirectory(atPath: root + "/.dump.old-2147483646-5", withIntermediateDirectories: true)
        for f in ["m", "notes.txt"] { try Data().write(to: URL(fileURLWithPath: root + "/.dump.old-2147483646-5/" + f)) }
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: root + "/dump", marker: "m") { _ in XCTFail("must not be called") })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/dump").sorted(), ["m", "notes.txt"])
    }

    func testAnExistingFileIsRefused() throws {
        let root = tmp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: root + "/f"))
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: root + "/f", marker: "m") { _ in XCTFail("must not be called") }) { e in
            XCTAssertTrue("\(e)".contains("exists and is not a folder"), "\(e)")
        }
        XCTAssertEqual(try String(contentsOfFile: root + "/f", encoding: .utf8), "keep")
    }

    /// A folder that is not empty and lacks the marker (not a previous output) is never replaced.
    /// A folder with the marker file is replaced only when the marker is one this writer makes
    /// and nothing but what that output wrote is there, at any depth.
    func testAForeignMarkerOrExtraFilesAreRefused() throws {
        let root = tmp(), fm = FileManager.default
        defer { try? fm.removeItem(atPath: root) }
        try fm.createDirectory(atPath: root + "/int8", withIntermediateDirectories: true)
        try Data("{\"name\":\"webapp\"}".utf8).write(to: URL(fileURLWithPath: root + "/manifest.json"))
        let ours: (Data) -> Set<String>? = { String(decoding: $0, as: UTF8.self).contains("ours") ? ["int8/a.bin", "params/"] : nil }
        func write(_ fill: (String) throws -> Void = { _ in XCTFail("must not be called") }) throws {
            try AtomicFile.writeDirectory(at: root, marker: "manifest.json", previousFiles: ours, fill)
        }
        XCTAssertThrowsError(try write()) { XCTAssertTrue("\($0)".contains("is not one this writes"), "\($0)") }
        try Data("ours".utf8).write(to: URL(fileURLWithPath: root + "/manifest.json"))
        try Data("1".utf8).write(to: URL(fileURLWithPath: root + "/int8/a.bin"))
        for extra in ["notes.txt", "int8/notes.txt", "int8/sub/x.bin", ".hidden", "params"] {  // "params" a file, not the folder
            try fm.createDirectory(atPath: (root + "/" + extra as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("keep".utf8).write(to: URL(fileURLWithPath: root + "/" + extra))
            XCTAssertThrowsError(try write()) { XCTAssertTrue("\($0)".contains("besides a previous output"), "\($0)") }
            XCTAssertEqual(try String(contentsOfFile: root + "/" + extra, encoding: .utf8), "keep")
            try fm.removeItem(atPath: root + "/" + (extra.hasPrefix("int8/sub") ? "int8/sub" : extra))
        }
        try fm.createDirectory(atPath: root + "/params", withIntermediateDirectories: true)
        // Through a link the folder it names is checked: an extra file there is refused too.
        try Data("keep".utf8).write(to: URL(fileURLWithPath: root + "/int8/extra.txt"))
        try fm.createSymbolicLink(atPath: root + ".link", withDestinationPath: root)
        defer { try? fm.removeItem(atPath: root + ".link") }
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: root + ".link", marker: "manifest.json", previousFiles: ours) { _ in XCTFail("must not be called") }) {
            XCTAssertTrue("\($0)".contains("holds int8/extra.txt besides a previous output"), "\($0)")
        }
        try fm.removeItem(atPath: root + "/int8/extra.txt")
        try write { dir in try Data("ours 2".utf8).write(to: URL(fileURLWithPath: dir + "/manifest.json")) }
        XCTAssertEqual(try String(contentsOfFile: root + "/manifest.json", encoding: .utf8), "ours 2")
    }

    /// `..` after a link is taken as the system takes it, after following the link: A/link/../target
    /// with A/link → B/inner names B/target, whose user file refuses the write.
    func testDotDotAfterALinkFollowsTheLink() throws {
        let root = tmp(), fm = FileManager.default
        defer { try? fm.removeItem(atPath: root) }
        for d in ["A", "B/inner", "B/target"] { try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true) }
        try Data("keep".utf8).write(to: URL(fileURLWithPath: root + "/B/target/notes.txt"))
        try fm.createSymbolicLink(atPath: root + "/A/link", withDestinationPath: root + "/B/inner")
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: root + "/A/link/../target", marker: "m") { _ in XCTFail("must not be called") }) {
            XCTAssertTrue("\($0)".contains("holds other files"), "\($0)")
        }
        try AtomicFile.writeDirectory(at: root + "/A/link/../fresh", marker: "m") { dir in try Data("1".utf8).write(to: URL(fileURLWithPath: dir + "/m")) }
        XCTAssertTrue(fm.fileExists(atPath: root + "/B/fresh/m"))
        XCTAssertFalse(fm.fileExists(atPath: root + "/A/fresh"))
    }

    /// A symbolic link to a previous output stays a link, and the folder it names is replaced; a
    /// link to nothing is refused before any work.
    func testALinkToAPreviousOutputStaysALink() throws {
        let root = tmp(), fm = FileManager.default
        defer { try? fm.removeItem(atPath: root) }
        try AtomicFile.writeDirectory(at: root + "/real", marker: "m") { dir in try Data("1".utf8).write(to: URL(fileURLWithPath: dir + "/m")) }
        try fm.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/real")
        try AtomicFile.writeDirectory(at: root + "/link", marker: "m") { dir in try Data("2".utf8).write(to: URL(fileURLWithPath: dir + "/m")) }
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: root + "/link"), root + "/real")
        XCTAssertEqual(try String(contentsOfFile: root + "/real/m", encoding: .utf8), "2")
        try fm.createSymbolicLink(atPath: root + "/dangling", withDestinationPath: root + "/nowhere")
        XCTAssertThrowsError(try AtomicFile.checkDirectoryTarget(root + "/dangling", marker: "m")) {
            XCTAssertTrue("\($0)".contains("it is a symbolic link to nothing"), "\($0)")
        }
    }

    func testAFolderOfOtherFilesIsRefused() throws {
        let root = tmp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: root + "/notes.txt"))
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: root, marker: "manifest.json") { _ in XCTFail("must not be called") }) { e in
            XCTAssertTrue("\(e)".contains("holds other files (no manifest.json)"), "\(e)")
        }
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: root)), ["sub", "notes.txt"])
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        try AtomicFile.writeDirectory(at: root + "/empty", marker: "manifest.json") { dir in
            try Data("{}".utf8).write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/empty"), ["manifest.json"])
    }

    /// `write` follows a symbolic link (the link stays, its target gets the bytes), writes into a
    /// device such as /dev/null without replacing it, and refuses a folder.
    func testWriteFollowsLinksWritesDevicesRefusesFolders() throws {
        let root = tmp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: URL(fileURLWithPath: root + "/target"))
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "target")
        try AtomicFile.write(Data("new".utf8), to: root + "/link")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/link"), "target")
        XCTAssertEqual(try String(contentsOfFile: root + "/target", encoding: .utf8), "new")
        try AtomicFile.write(Data("discarded".utf8), to: "/dev/null")
        let type = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
        XCTAssertEqual(type, .typeCharacterSpecial)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: root)) { XCTAssertTrue("\($0)".contains("it is a folder"), "\($0)") }
        // "target/" names a folder: refused, and the file "target" is not replaced.
        for path in [root + "/target/", root + "/target/.", root + "/target//.", root + "/target/.."] {
            XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: path)) {
                XCTAssertTrue("\($0)".contains("it ends with '/', '/.' or '/..', so it names a folder"), "\($0)")
            }
        }
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: "")) { XCTAssertTrue("\($0)".contains("the path is empty"), "\($0)") }
        XCTAssertEqual(try String(contentsOfFile: root + "/target", encoding: .utf8), "new")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: root)), ["target", "link"])  // no temporary left
    }

    /// `sameFile` sees through links, hard links and other spellings; `descriptor` names the
    /// open descriptors behind /dev/stdout-like paths (a redirection to a regular file included).
    func testSameFileAndDescriptors() throws {
        let root = tmp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try Data("a".utf8).write(to: URL(fileURLWithPath: root + "/a"))
        try Data("a".utf8).write(to: URL(fileURLWithPath: root + "/copy"))
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "a")
        try FileManager.default.linkItem(atPath: root + "/a", toPath: root + "/hard")
        XCTAssertTrue(AtomicFile.sameFile(root + "/a", root + "/link"))
        XCTAssertTrue(AtomicFile.sameFile(root + "/hard", root + "/link"))
        XCTAssertTrue(AtomicFile.sameFile(root + "/sub/../a", root + "/a"))
        XCTAssertFalse(AtomicFile.sameFile(root + "/a", root + "/copy"))  // same bytes, another file
        XCTAssertTrue(AtomicFile.sameFile(root + "/new", root + "/sub/../new"))  // neither exists yet
        XCTAssertFalse(AtomicFile.sameFile(root + "/new", root + "/a"))
        XCTAssertEqual(AtomicFile.descriptor("/dev/stdout"), 1)
        XCTAssertEqual(AtomicFile.descriptor("/dev/fd/2"), 2)
        XCTAssertEqual(AtomicFile.descriptor("/proc/self/fd/1"), 1)
        XCTAssertNil(AtomicFile.descriptor("/dev/fd/999999"))  // not open
        XCTAssertNil(AtomicFile.descriptor(root + "/a"))
        XCTAssertTrue(AtomicFile.isStream("/dev/stderr"))
        XCTAssertFalse(AtomicFile.isStream(root + "/a"))
    }
}
