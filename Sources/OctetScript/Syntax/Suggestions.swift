/// "Did you mean" suggestions by optimal-string-alignment edit distance
/// (Levenshtein plus adjacent transpositions, so `modle` is one edit from `model`).
public enum Suggestions {
    /// Edit distance between `a` and `b` (insert, delete, substitute, swap adjacent).
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var d = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }

    /// The closest candidate within a length-dependent budget (1 edit for names up to
    /// 3 characters, 2 up to 8, then a quarter of the length); ties go alphabetically.
    public static func closest(to name: String, among candidates: [String]) -> String? {
        let budget = name.count <= 3 ? 1 : name.count <= 8 ? 2 : name.count / 4
        var best: (String, Int)?
        for c in Set(candidates) where c != name {
            let d = distance(name.lowercased(), c.lowercased())
            guard d <= budget else { continue }
            if best == nil || d < best!.1 || (d == best!.1 && c < best!.0) { best = (c, d) }
        }
        return best?.0
    }

    /// `"; did you mean 'x'?"` or the empty string.
    public static func didYouMean(_ name: String, among candidates: [String]) -> String {
        closest(to: name, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }
}
