import CLibEdit
import Foundation
import OctetScript

/// Line editing over libedit's readline interface: prompt, history persisted to a file,
/// tab completion through a Swift callback.
final class LineEditor {
    /// The editor whose completer the C callbacks use (libedit has one global state).
    nonisolated(unsafe) static var active: LineEditor?
    nonisolated(unsafe) static var pending: [String] = []

    /// 1 while `readLine` reads: the SIGINT handler (`installInterruptHandler`) then sets `interrupted`.
    nonisolated(unsafe) static var reading: sig_atomic_t = 0
    /// Set by the SIGINT handler while reading; makes `readCharacter` end the line being edited.
    nonisolated(unsafe) static var interrupted: sig_atomic_t = 0
    /// Set when the line should be drawn again (after Ctrl-Z and `fg`).
    nonisolated(unsafe) static var redraw: sig_atomic_t = 0
    /// Set on SIGWINCH; `readCharacter` then has libedit read the new width.
    nonisolated(unsafe) static var resized: sig_atomic_t = 0
    /// The terminal's modes before libedit first read a line (canonical, echoing).
    nonisolated(unsafe) static var cooked = termios()
    /// The character `readCharacter` returns for `redraw`, bound to a full redisplay.
    static let redrawKey: Int32 = 0x1E
    /// A byte `readCharacter` read that ended a malformed UTF-8 sequence: the next character starts with it.
    nonisolated(unsafe) static var pendingByte: Int32?

    let historyPath: String
    let complete: (String) -> [String]

    /// What `readLine` read.
    enum Input: Equatable {
        case line(String)
        /// Ctrl-C: the line being edited is discarded.
        case interrupted
        /// Ctrl-D or the end of input.
        case end
    }

    init(historyPath: String, complete: @escaping (String) -> [String]) {
        self.historyPath = historyPath
        self.complete = complete
        LineEditor.active = self
        LineEditor.useUTF8Characters()
        LineEditor.handleSignals()
        // Before anything initializes libedit's readline: characters come from `readCharacter`, and
        // libedit installs no signal handlers of its own (its handlers assume one thread and race
        // with ours); `handleSignals` and `installInterruptHandler` do that work.
        rl_catch_signals = 0
        rl_getc_function = { file in LineEditor.readCharacter(file.map { fileno($0) } ?? STDIN_FILENO) }
        stifle_history(1000)
        _ = read_history(historyPath)  // initializes libedit
        _ = rl_parse_and_bind("bind ^^ ed-redisplay")  // `redrawKey`
        rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n\"\\'`@$><=;|&{([,+-*/%!"))
        rl_completer_word_break_characters = strdup(" \t\n\"\\'`@$><=;|&{([,+-*/%!")
        rl_completion_append_character = 0
        rl_attempted_completion_function = { text, _, _ in
            rl_attempted_completion_over = 1
            return rl_completion_matches(text) { text, state in
                if state == 0 { LineEditor.pending = LineEditor.active?.complete(text.map { String(cString: $0) } ?? "") ?? [] }
                guard !LineEditor.pending.isEmpty else { return nil }
                return strdup(LineEditor.pending.removeFirst())
            }
        }
    }

    /// Reads a line (without the newline). Ctrl-C at the prompt discards the line being edited
    /// (`.interrupted`) and never ends the process: while the line is read, SIGINT only sets a flag,
    /// which `readCharacter` sees within 0.1 s. A Ctrl-C left pending by interrupted work is
    /// forgotten here, so the next one does not end the process.
    func readLine(prompt: String) -> Input {
        LineEditor.interrupted = 0
        LineEditor.redraw = 0
        LineEditor.pendingByte = nil
        Cancellation.global.reset()
        LineEditor.reading = 1
        defer { LineEditor.reading = 0 }
        let raw = readline(prompt)
        defer { free(raw) }
        if LineEditor.interrupted != 0 { return .interrupted }
        return raw.map { .line(String(cString: $0)) } ?? .end
    }

    /// The terminal signals while the REPL runs, with async-signal-safe calls only (tcgetattr,
    /// tcsetattr, raise, signal) and flags that `readCharacter` reads on the editing thread:
    /// - Ctrl-Z (SIGTSTP) stops the process with the terminal in its canonical modes and puts the
    ///   editing modes back after `fg`; the line is then drawn again.
    /// - SIGWINCH: libedit reads the new width before the next character.
    /// - SIGTERM, SIGHUP, SIGQUIT: the canonical modes are put back, then the signal's default
    ///   action runs (the process ends).
    static func handleSignals() {
        _ = tcgetattr(STDIN_FILENO, &cooked)
        signal(SIGWINCH) { _ in LineEditor.resized = 1 }
        for s in [SIGTERM, SIGHUP, SIGQUIT] {
            signal(s) { s in
                _ = tcsetattr(STDIN_FILENO, TCSANOW, &LineEditor.cooked)
                signal(s, SIG_DFL)
                raise(s)
            }
        }
        signal(SIGTSTP) { _ in
            var current = termios()
            let raw = tcgetattr(STDIN_FILENO, &current) == 0 && current.c_lflag & tcflag_t(ICANON) == 0
            if raw { _ = tcsetattr(STDIN_FILENO, TCSANOW, &LineEditor.cooked) }
            raise(SIGSTOP)
            if raw { _ = tcsetattr(STDIN_FILENO, TCSANOW, &current) }
            LineEditor.redraw = 1
        }
    }

    /// libedit turns the wide characters of a line into bytes by the C library's locale, which is
    /// "C" (ASCII only) until set: the environment's when it is UTF-8, else C.UTF-8, so the
    /// characters `readCharacter` decodes come back as the UTF-8 typed.
    static func useUTF8Characters() {
        let utf8 = { () -> Bool in
            guard let c = nl_langinfo(nl_item(CODESET)) else { return false }
            return String(cString: c).uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
        }
        if setlocale(LC_CTYPE, "") != nil, utf8() { return }
        _ = setlocale(LC_CTYPE, "C.UTF-8")
    }

    /// One character for libedit (`rl_getc_function`): a UTF-8 sequence from `fd` decoded to its
    /// code point (libedit takes the returned int as a wide character); -1, which ends the line
    /// being read, at end of input, on a read error, or once Ctrl-C set `interrupted`. A malformed
    /// sequence (a stray or invalid byte, a sequence cut short, an overlong form, a surrogate)
    /// gives U+FFFD; a byte that cuts a sequence short is kept for the next character.
    static func readCharacter(_ fd: Int32) -> Int32 {
        func byte(first: Bool) -> Int32? {
            if let b = pendingByte { pendingByte = nil; return b }
            var b: UInt8 = 0
            while true {
                if interrupted != 0 { return nil }
                if resized != 0 { resized = 0; rl_resize_terminal() }
                if first && redraw != 0 { redraw = 0; return redrawKey }  // a control key bound to a redisplay
                // The signal may reach another thread than this one: wait in short slices and look at the flag.
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&p, 1, 100)
                if ready == 0 || (ready < 0 && errno == EINTR) { continue }
                let n = read(fd, &b, 1)
                if n == 1 { return Int32(b) }
                if n < 0 && errno == EINTR { continue }
                return nil
            }
        }
        guard let first = byte(first: true) else { return -1 }
        let extra: Int32
        switch first {
        case 0..<0x80: return first
        case 0xC2..<0xE0: extra = 1
        case 0xE0..<0xF0: extra = 2
        case 0xF0..<0xF5: extra = 3
        default: return 0xFFFD
        }
        var scalar = first & (0x3F >> extra)
        for _ in 0..<extra {
            guard let next = byte(first: false) else { return -1 }
            guard next & 0xC0 == 0x80 else { pendingByte = next; return 0xFFFD }
            scalar = scalar << 6 | (next & 0x3F)
        }
        let shortest: Int32 = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000
        return scalar < shortest || Unicode.Scalar(UInt32(scalar)) == nil ? 0xFFFD : scalar
    }

    /// Adds a non-blank line to history and saves the history file.
    func remember(_ line: String) {
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        add_history(line)
        _ = write_history(historyPath)
    }
}
