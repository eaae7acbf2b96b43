import Foundation
import XCTest
import OctetTestSupport

/// Drives the built `octet` REPL in a tmux pseudo-terminal: typing, tab completion,
/// an error, Ctrl-C during a long loop, then a working command.
final class REPLPtyTests: XCTestCase {
    var socket = "octet-pty-\(getpid())"

    /// Runs a tmux command through the shell (popen/system, not Foundation.Process,
    /// whose exit watching waits on descriptors the daemonized tmux server inherits).
    @discardableResult
    func tmux(_ args: [String], capture: Bool = false) throws -> String {
        let quoted = args.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let command = "tmux -L \(socket) \(quoted) 2>/dev/null"
        guard capture else {
            _ = system(command + " >/dev/null")
            return ""
        }
        guard let pipe = popen(command, "r") else { return "" }
        defer { pclose(pipe) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, pipe)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-S", "-200", "-t", "repl"], capture: true) }

    /// Waits until the pane shows `text` `count` times (polling up to 10 s).
    func waitFor(_ text: String, count: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try screen().components(separatedBy: text).count - 1 >= count { return }
            usleep(50_000)
        }
        XCTFail("screen never showed \(text.debugDescription) ×\(count); screen:\n\(try screen())", file: file, line: line)
    }

    func type(_ keys: String, enter: Bool = true) throws {
        _ = try tmux(["send-keys", "-t", "repl", "-l", keys])
        if enter { _ = try tmux(["send-keys", "-t", "repl", "Enter"]) }
    }

    static func octetBinary() -> String? {
        var dir = URL(fileURLWithPath: Bundle.main.bundlePath)
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("octet").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    func testInteractiveSession() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            throw XCTSkip("tmux is not installed (scripts/setup installs it); skipping the REPL pty test")
        }
        guard let octet = Self.octetBinary() else { throw XCTSkip("built octet executable not found next to the test bundle") }
        let home = Scratch.directory("pty-home")
        _ = try tmux(["new-session", "-d", "-s", "repl", "-x", "120", "-y", "50", "env HOME=\(home.path) TERM=xterm \(octet)"])
        defer { _ = try? tmux(["kill-server"]) }

        try waitFor("octet>")
        try type("let model = 41")
        try type("mod", enter: false)
        _ = try tmux(["send-keys", "-t", "repl", "Tab"])
        try type(" + 1")
        try waitFor("42")

        try type("let t = zeros([2, 3])")
        try type("t.sh", enter: false)
        _ = try tmux(["send-keys", "-t", "repl", "Tab"])
        _ = try tmux(["send-keys", "-t", "repl", "Enter"])
        try waitFor("[2, 3]")

        try type("fn twice(x) {")
        try waitFor("...>")
        try type("  x * 2")
        try type("}")
        try type("twice(21)")
        try waitFor("42", count: 2)

        try type("print(modle)")
        try waitFor("unknown name 'modle'; did you mean 'model'?")

        try type("let i = 0")
        try type("while true { i += 1 }")
        usleep(400_000)
        _ = try tmux(["send-keys", "-t", "repl", "C-c"])
        try waitFor("error: interrupted")

        try type("print(\"after\", model, i > 0)")
        try waitFor("after 41 true")

        // Ctrl-C at the prompt drops the line being typed, twice over, and the session goes on;
        // non-ASCII input comes back as typed.
        try type("print(\"dropped\")", enter: false)
        _ = try tmux(["send-keys", "-t", "repl", "C-c"])
        usleep(300_000)
        _ = try tmux(["send-keys", "-t", "repl", "C-c"])
        usleep(300_000)
        try type("print(\"é ✓\", 7 * 6)")
        try waitFor("é ✓ 42")
        // A malformed UTF-8 byte is read as U+FFFD and does not swallow the Enter after it; the
        // lexical error is reported at once although a bracket is open.
        try type("print(3", enter: false)
        _ = try tmux(["send-keys", "-t", "repl", "-H", "c3"])
        _ = try tmux(["send-keys", "-t", "repl", "Enter"])
        try waitFor("unexpected character '\u{FFFD}'")
        XCTAssertFalse(try screen().contains("dropped\n"), "a line dropped with Ctrl-C ran")
        try type(":quit")
        usleep(300_000)
        let history = try String(contentsOf: home.appendingPathComponent(".octet_history"), encoding: .utf8)
        // libedit stores spaces as \040.
        XCTAssertTrue(history.contains("let\\040model\\040=\\04041") && history.contains("twice(21)"), "history file misses inputs:\n\(history)")
    }

    func testPipedStdinRunsStatements() throws {
        guard let octet = Self.octetBinary() else { throw XCTSkip("built octet executable not found next to the test bundle") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: octet)
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        input.fileHandleForWriting.write(Data("let xs = [1,\n 2]\nprint(len(xs))\nprint(nope)\nxs\n:quit\n".utf8))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(out, "2\n[1, 2]\n")
        XCTAssertTrue(err.hasPrefix("<input-3>:1:7: error: unknown name 'nope'"), err)
        XCTAssertEqual(p.terminationStatus, 70, "a failed statement makes a piped session exit 70, as `octet run`")
    }
}
