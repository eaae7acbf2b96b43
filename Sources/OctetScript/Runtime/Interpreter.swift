import Foundation
import OctetTensor

/// Tree-walking interpreter for Octet scripts.
///
/// Holds the global table (builtins from `BindingRegistry` plus top-level bindings),
/// the call stack for error reports, the random generator, the cancellation token and
/// the progress reporter handed to domain code. Runtime errors stop at the first one and
/// are thrown as `RuntimeError` with the script call stack.
public final class Interpreter {
    struct CallRecord {
        var name: String
        var callSite: SourceLocation
    }

    public let sources = SourceRegistry()
    /// Receives everything scripts print (text includes newlines).
    public var output: (String) -> Void
    /// Shows a value richly (`show(x)`, notebook cells); defaults to printing its summary.
    public var display: ((Value) throws -> Void)?
    public var rng: RandomGenerator
    public var cancellation: Cancellation
    public var progress: ProgressReporter
    /// Deepest allowed script call nesting before "stack overflow".
    public var maxCallDepth = 400

    var globals: [Value] = []
    var globalIndex: [String: Int] = [:]
    var builtinCount = 0
    var callStack: [CallRecord] = []
    /// Where the innermost running builtin was called: callbacks it makes through
    /// `call(_:_:at:)` report errors (and their stack) against it.
    var builtinCallSite: SourceLocation?
    var importing: [String] = []
    var imported: Set<String> = []
    /// Files this interpreter read (imports, `:load`, models, data, programs): an output may not
    /// replace one.
    public internal(set) var readFiles: [String] = []

    /// Files this interpreter wrote (its own outputs, which it may replace even after reading them).
    var writtenFiles: [String] = []

    /// A `warning:` line in the script's output (as the CLI writes them to stderr): the run goes on.
    func warn(_ message: String) { output("warning: \(message)\n") }

    /// Records `path` (absolute) as read.
    func noteRead(_ path: String) { if !readFiles.contains(path) { readFiles.append(path) } }

    /// Records `path` (absolute; a file or a folder it wrote whole) as an output of this interpreter.
    func noteWritten(_ path: String) { if !writtenFiles.contains(path) { writtenFiles.append(path) } }

    /// A file this interpreter read that lies inside `folder` (which an output would replace whole),
    /// leaving out what lies inside its own outputs (a dump it wrote, then read).
    public func readFile(within folder: String) -> String? {
        readFiles.first { read in
            AtomicFile.isWithin(read, folder: resolvePath(folder)) && !writtenFiles.contains { AtomicFile.isWithin(read, folder: $0) }
        }
    }

    /// The file this interpreter read, and did not write itself, that `path` names
    /// (`AtomicFile.sameFile`), or the folder it read (an image dataset) that holds `path`.
    public func readFile(at path: String) -> String? {
        let full = resolvePath(path)
        guard !writtenFiles.contains(where: { AtomicFile.sameFile(full, $0) }) else { return nil }
        return readFiles.first { AtomicFile.isWithin(full, folder: $0) }
    }
    /// Directory used to resolve `import` and relative paths at top level.
    public var baseDirectory: String

    /// The seed the generator started from (shown in notebooks).
    public let initialSeed: UInt64

    /// Writes all of `text`'s UTF-8 bytes to `file` (a NUL byte included, where `fputs` stops).
    public static func write(_ text: String, to file: UnsafeMutablePointer<FILE>) {
        var s = text
        s.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, file) }
    }

    public init(seed: UInt64 = 0, output: @escaping (String) -> Void = { Interpreter.write($0, to: stdout) },
                cancellation: Cancellation = Cancellation(), progress: ProgressReporter = SilentProgress()) {
        self.output = output
        self.rng = RandomGenerator(seed: seed)
        self.initialSeed = seed
        self.cancellation = cancellation
        self.progress = progress
        self.baseDirectory = FileManager.default.currentDirectoryPath
        for table in BindingRegistry.tables {
            for b in table.builtins { defineGlobal(b.name, .builtin(b)) }
        }
        builtinCount = globals.count
    }

    // MARK: globals

    public func defineGlobal(_ name: String, _ value: Value) {
        if let i = globalIndex[name] { globals[i] = value } else {
            globalIndex[name] = globals.count
            globals.append(value)
        }
    }

    public func global(_ name: String) -> Value? { globalIndex[name].map { globals[$0] } }

    /// Every global name (builtins and user bindings).
    public var globalNames: [String] { Array(globalIndex.keys) }

    /// Names bound by scripts (not builtins) in definition order, with values.
    public var userGlobals: [(String, Value)] {
        globalIndex.filter { $0.value >= builtinCount }.sorted { $0.value < $1.value }.map { ($0.key, globals[$0.value]) }
    }

    /// The builtin named `name` in any registered table.
    public func builtin(named name: String) -> Builtin? {
        for t in BindingRegistry.tables { if let b = t[name] { return b } }
        return nil
    }

    // MARK: running

    /// Lexes and parses `source`, remembering it for diagnostics. Statements inside a
    /// `# %% [markdown]` cell are dropped: a Markdown cell is text wherever the file runs
    /// (`octet run`, a notebook, `import`, `:load`).
    public func parse(_ source: String, file: String) -> (Program, [Diagnostic]) {
        sources.add(SourceFile(name: file, text: source))
        let (program, diagnostics) = Parser.parse(source, file: file)
        let markdown = Cell.split(source).filter { $0.kind == .markdown }
        guard !markdown.isEmpty else { return (program, diagnostics) }
        let code = program.statements.filter { s in !markdown.contains { $0.firstLine...max($0.firstLine, $0.lastLine) ~= s.location.line } }
        return (Program(file: program.file, statements: code, frameSize: program.frameSize), diagnostics)
    }

    /// Runs a program's top-level statements. `echo` receives the value of each
    /// top-level expression statement that is not nil (REPL and notebooks show them).
    public func run(_ program: Program, echo: ((Value, Stmt) throws -> Void)? = nil) throws {
        try run(program.statements, frameSize: program.frameSize, echo: echo)
    }

    /// Runs a subset of a program's top-level statements (a notebook cell) in a fresh frame.
    public func run(_ statements: [Stmt], frameSize: Int, echo: ((Value, Stmt) throws -> Void)? = nil) throws {
        let frame = Frame(size: frameSize, parent: nil)
        callStack.removeAll()
        for stmt in statements {
            if let echo, case .expression(let e) = stmt.kind {
                let v = try evaluate(e, frame)
                if case .null = v { continue }
                try echo(v, stmt)
                continue
            }
            switch try execute(stmt, frame) {
            case .normal: continue
            case .breakLoop, .continueLoop: throw error("'break' or 'continue' outside a loop", at: stmt.location)
            case .returned: return
            }
        }
    }

    /// Calls a script or builtin function from Swift (e.g. a builtin applying a callback).
    /// Without `location`, errors point at the call of the running builtin (`xs.map(f)`).
    public func call(_ function: Value, _ args: [Value], at location: SourceLocation? = nil) throws -> Value {
        let loc = location ?? builtinCallSite ?? callStack.last?.callSite ?? SourceLocation(file: "<host>", line: 0, column: 0)
        return try call(function, positional: args, named: [], at: loc, argumentLocations: [])
    }

    // MARK: errors

    /// A runtime error at `location` with the current call stack.
    func error(_ message: String, at location: SourceLocation, interruption: Bool = false) -> RuntimeError {
        RuntimeError(message, at: location, stack: stackTrace(innermost: location), isInterruption: interruption)
    }

    /// `in f at file:l:c` lines, innermost first; empty at top level. Runs of the same
    /// line (deep recursion) collapse into `[previous line repeated N more times]`.
    func stackTrace(innermost: SourceLocation) -> [String] {
        if callStack.isEmpty { return [] }
        var raw: [String] = []
        var here = innermost
        for record in callStack.reversed() {
            raw.append("in \(record.name) at \(here)")
            here = record.callSite
        }
        raw.append("in <script> at \(here)")
        var lines: [String] = []
        var i = 0
        while i < raw.count {
            var j = i + 1
            while j < raw.count && raw[j] == raw[i] { j += 1 }
            lines.append(raw[i])
            if j - i > 1 { lines.append("[previous line repeated \(j - i - 1) more time\(j - i - 1 == 1 ? "" : "s")]") }
            i = j
        }
        return lines
    }

    @inline(__always)
    func checkCancellation(_ location: SourceLocation) throws {
        if cancellation.isCancelled { throw error("interrupted", at: location, interruption: true) }
    }
}
