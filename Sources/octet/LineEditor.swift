import CLibEdit
import Foundation

/// Line editing over libedit's readline interface: prompt, history persisted to a file,
/// tab completion through a Swift callback.
final class LineEditor {
    /// The editor whose completer the C callbacks use (libedit has one global state).
    nonisolated(unsafe) static var active: LineEditor?
    nonisolated(unsafe) static var pending: [String] = []

    let historyPath: String
    let complete: (String) -> [String]

    init(historyPath: String, complete: @escaping (String) -> [String]) {
        self.historyPath = historyPath
        self.complete = complete
        LineEditor.active = self
        stifle_history(1000)
        _ = read_history(historyPath)
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

    /// Reads a line (without the newline); nil at end of input (Ctrl-D).
    func readLine(prompt: String) -> String? {
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    /// Adds a non-blank line to history and saves the history file.
    func remember(_ line: String) {
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        add_history(line)
        _ = write_history(historyPath)
    }
}
