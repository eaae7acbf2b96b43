import Foundation
import OctetScript

/// The interactive Octet prompt (`octet` with no arguments).
///
/// On a terminal it uses libedit (history in ~/.octet_history, tab completion, multi-line
/// input while brackets are open); otherwise it reads statements from stdin so it can be
/// scripted (then the exit code is 70 when any statement failed, as `octet run`). Ctrl-C
/// stops running work at its next check; Ctrl-D leaves.
final class REPL {
    let session: Session
    let interactive: Bool
    var editor: LineEditor?
    /// Whether a line of piped input was read (a byte order mark can only open the first).
    var readAny = false
    /// Lines after a lone CR in the last line read.
    var queued: [String] = []
    /// Errors reported so far (a class so the session's reporter can count them).
    final class ErrorCount { var value = 0 }
    let errors = ErrorCount()

    init() {
        interactive = isatty(STDIN_FILENO) != 0
        let interpreter = Interpreter(output: { Interpreter.write($0, to: stdout) },
                                      cancellation: Cancellation.global,
                                      progress: TerminalProgress.forTerminal(fd: STDOUT_FILENO))
        let errors = self.errors
        session = Session(interpreter: interpreter) { message in
            errors.value += 1
            fflush(stdout)
            Interpreter.write(message + "\n", to: stderr)
        }
    }

    /// Runs the REPL until :quit or end of input. Lines are read on the main thread, which the
    /// kernel gives the terminal's signals first; each input runs on a large stack (`Session`).
    static func start() {
        installInterruptHandler()
        let repl = REPL()
        repl.loop()
        if !repl.interactive && repl.errors.value > 0 { exit(70) }
    }

    func loop() {
        if interactive {
            let home = ProcessInfo.processInfo.environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
            let completer = Completer(interpreter: session.interpreter)
            editor = LineEditor(historyPath: home + "/.octet_history") { completer.completions(for: $0) }
            print("Octet — :help for help, Ctrl-D to leave")
        }
        var buffer = ""
        var lookahead: String?  // piped input: the line after a complete statement, read to see if it continues it
        var continuing = false  // `lookahead` continues the complete statement in `buffer`
        while true {
            fflush(stdout)
            let got = lookahead.map { LineEditor.Input.line($0) } ?? read(prompt: buffer.isEmpty ? "octet> " : "  ...> ")
            guard case .line(let line) = got else {
                if got == .interrupted {  // Ctrl-C: the statement being typed is dropped
                    print("")
                    buffer = ""
                    continuing = false
                    continue
                }
                if interactive { print("") }
                session.finish(pending: buffer)  // an unclosed block at end of input is a syntax error
                return
            }
            lookahead = nil
            buffer += buffer.isEmpty ? line : "\n" + line
            // A continuation of a complete statement is checked alone: a long chain stays linear.
            if continuing ? Session.continuationNeedsMore(line) : Session.needsMoreInput(buffer) { continuing = false; continue }
            continuing = false
            if !interactive, buffer.first(where: { $0 != " " && $0 != "\t" }) != ":" {
                // As in a script, comment lines may stand between a statement and its continuation; they
                // stay with the statement either way. A blank line ends it (a driver's "run this").
                lookahead = nil
                while case .line(let next) = read(prompt: "") {
                    if Session.isComment(next) { buffer += "\n" + next; continue }
                    lookahead = next
                    break
                }
                if let next = lookahead, Session.continues(next) {
                    continuing = true
                    continue
                }
            }
            let input = buffer
            buffer = ""
            if input.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            editor?.remember(input)
            if input.trimmingCharacters(in: .whitespaces).hasPrefix(":") {
                if !command(input.trimmingCharacters(in: .whitespaces)) { return }
            } else {
                session.execute(input)
            }
        }
    }

    /// The next line; a byte order mark opening piped input is dropped, as `octet run` drops it,
    /// and a lone CR ends a line, as in scripts.
    func read(prompt: String) -> LineEditor.Input {
        if let editor { return editor.readLine(prompt: prompt) }
        if !queued.isEmpty { return .line(queued.removeFirst()) }
        guard var line = Swift.readLine(strippingNewline: true) else { return .end }
        if !readAny, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
        readAny = true
        var parts = line.unicodeScalars.split(separator: "\r", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        queued = Array(parts.dropFirst())
        return .line(parts.first ?? "")
    }

    /// Handles a `:command`; returns false for :quit.
    func command(_ text: String) -> Bool {
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        let name = parts[0]
        var argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        if argument.count >= 2, argument.hasPrefix("\""), argument.hasSuffix("\"") { argument = String(argument.dropFirst().dropLast()) }  // :save "my file.octet"
        switch name {
        case ":quit", ":q": return false
        case ":help": help(argument)
        case ":vars": vars()
        case ":load": if requireArgument(name, argument) { session.load(argument) }
        case ":save":
            if requireArgument(name, argument) { report { try session.save(to: argument) } }
        case ":notebook":
            if requireArgument(name, argument) {
                report {
                    try session.notebook(title: (argument as NSString).lastPathComponent)
                        .write(to: session.interpreter.resolvePath(argument), protected: session.interpreter.readFile(at:))
                }
            }
        case ":time":
            if requireArgument(name, argument) {
                let start = DispatchTime.now().uptimeNanoseconds
                session.execute(argument)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                print("time: \(Format.fixed(ms, ms < 10 ? 3 : 1)) ms")
            }
        default:
            let hint = Suggestions.didYouMean(name, among: Completer.commands)
            session.errors("error: unknown command '\(name)'\(hint) (:help lists commands)")
        }
        return true
    }

    func requireArgument(_ name: String, _ argument: String) -> Bool {
        if argument.isEmpty { session.errors("error: \(name) needs an argument (see :help)") }
        return !argument.isEmpty
    }

    func report(_ body: () throws -> Void) {
        do { try body() } catch { session.errors("error: \(error)") }
    }

    static let commandHelp: [(String, String)] = [
        (":help [name]", "list commands and builtins, or show one builtin's or method's signature and doc"),
        (":vars", "list the bindings made in this session"),
        (":load FILE", "run a script file in this session"),
        (":save FILE.octet", "write the inputs that ran as a script"),
        (":notebook FILE.md", "write the session as a Markdown notebook"),
        (":time EXPR", "run a statement and print how long it took"),
        (":quit", "leave (Ctrl-D also leaves; Ctrl-C stops running work)"),
    ]

    func help(_ name: String) {
        let interp = session.interpreter
        if name.isEmpty {
            print("Commands:")
            for (c, d) in REPL.commandHelp { print("  \(c.padding(toLength: 20, withPad: " ", startingAt: 0)) \(d)") }
            for table in BindingRegistry.tables {
                print("\(table.domain) builtins: " + table.names.sorted().joined(separator: ", "))
            }
            return
        }
        if let b = interp.builtin(named: name) {
            print(b.signature + "\n  " + b.doc)
        } else if case .closure(let c)? = interp.global(name) {
            print("fn \(c.decl.displayName)(" + c.decl.parameters.map(\.name).joined(separator: ", ") + ")  (defined in this session)")
        } else if case let methods = BindingRegistry.methodHelp(name), !methods.isEmpty {
            print(methods.joined(separator: "\n"))  // `report`, `QuantizedModel.report`, `QuantizedModel`
        } else if name.contains("."), !name.contains(where: { $0 == "(" || $0 == ";" || $0 == "\n" }) {
            let receiver = String(name.prefix { $0 != "." }), member = String(name.split(separator: ".").last ?? "")
            if interp.global(receiver) == nil, case let methods = BindingRegistry.methodHelp(member), !methods.isEmpty {
                print("'\(receiver)' is not bound yet; methods named \(member):\n" + methods.joined(separator: "\n"))
            } else {
                _ = session.execute("help(\(name))", record: false)  // a member of a bound value, e.g. `d.mirrored`
            }
        } else if case .object(let o)? = interp.global(name) {
            print("\(name): \(o.typeName); methods: " + o.methods.names.sorted().joined(separator: ", ") + " (:help \(name).NAME for one)")
        } else if let (c, d) = REPL.commandHelp.first(where: { $0.0.hasPrefix(":" + name) || $0.0.hasPrefix(name) }) {
            print("\(c)  \(d)")
        } else {
            let all = interp.globalNames + REPL.commandHelp.map(\.0) + BindingRegistry.methodTables.map(\.type)
            session.errors("error: no help for '\(name)'" + Suggestions.didYouMean(name, among: all))
        }
    }

    func vars() {
        let globals = session.interpreter.userGlobals
        if globals.isEmpty { print("(no bindings yet)"); return }
        for (name, value) in globals {
            let text = Session.echoText(value).split(separator: "\n").first.map(String.init) ?? ""
            print("\(name): \(value.typeName) = \(text.count > 60 ? String(text.prefix(57)) + "..." : text)")
        }
    }
}
