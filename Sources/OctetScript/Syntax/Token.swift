/// Kinds of lexical tokens. Keywords and punctuation carry their spelling as raw value.
public enum TokenKind: String, Sendable {
    case identifier, integer, real, string, newline, eof
    // keywords
    case kwLet = "let", kwFn = "fn", kwIf = "if", kwElse = "else", kwFor = "for", kwIn = "in"
    case kwWhile = "while", kwBreak = "break", kwContinue = "continue", kwReturn = "return"
    case kwImport = "import", kwTrue = "true", kwFalse = "false", kwNil = "nil"
    case kwAnd = "and", kwOr = "or", kwNot = "not"
    // punctuation and operators
    case leftParen = "(", rightParen = ")", leftBracket = "[", rightBracket = "]"
    case leftBrace = "{", rightBrace = "}", comma = ",", dot = ".", colon = ":", semicolon = ";"
    case plus = "+", minus = "-", star = "*", slash = "/", percent = "%"
    case equal = "=", equalEqual = "==", bangEqual = "!=", less = "<", lessEqual = "<="
    case greater = ">", greaterEqual = ">=", plusEqual = "+=", minusEqual = "-=", starEqual = "*="
    case slashEqual = "/=", pipe = "|>", halfOpenRange = "..<", closedRange = "..."

    static let keywords: [String: TokenKind] = {
        var map: [String: TokenKind] = [:]
        for kind in [kwLet, kwFn, kwIf, kwElse, kwFor, kwIn, kwWhile, kwBreak, kwContinue, kwReturn,
                     kwImport, kwTrue, kwFalse, kwNil, kwAnd, kwOr, kwNot] { map[kind.rawValue] = kind }
        return map
    }()

    /// How the kind is named in "expected ..." messages.
    public var display: String {
        switch self {
        case .identifier: return "name"
        case .integer, .real: return "number"
        case .string: return "string"
        case .newline: return "end of line"
        case .eof: return "end of file"
        default: return "'\(rawValue)'"
        }
    }
}

/// One piece of a string literal: plain text or an interpolated `\(expr)` given as tokens.
public enum StringPart: Sendable {
    case text(String)
    case code([Token], SourceLocation)
}

/// A lexical token with its spelling, location and literal payload.
public struct Token: Sendable {
    public var kind: TokenKind
    public var text: String
    public var location: SourceLocation
    public var intValue: Int = 0
    public var realValue: Double = 0
    public var parts: [StringPart] = []

    public init(kind: TokenKind, text: String, location: SourceLocation) {
        self.kind = kind
        self.text = text
        self.location = location
    }
}
