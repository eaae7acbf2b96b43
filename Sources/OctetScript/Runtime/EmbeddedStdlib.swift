/// Octet-language library files importable as `import "stdlib/<name>"` without a file
/// on disk. A file with the same relative path next to the importing script wins.
public enum EmbeddedStdlib {
    public static var files: [String: String] = [
        "metrics.octet": metrics,
    ]

    static let metrics = """
    # Metrics helpers written in Octet.

    # Mean of a list of numbers.
    fn average(xs) {
      assert(len(xs) > 0, "average of an empty list")
      let total = 0.0
      for x in xs { total += x }
      return total / len(xs)
    }

    # SQNR in dB of every test tensor against the reference, as a record {name: dB}.
    fn sqnr_table(ref, tests) {
      let out = {}
      for name in tests { out[name] = sqnr(ref, tests[name]) }
      return out
    }

    # Prints a two-column table of a record's keys and values.
    fn print_table(rec, digits: 2) {
      for k in rec {
        let v = rec[k]
        if type(v) == "real" { v = fixed(v, digits) }
        print(k.pad(12), v)
      }
    }

    """
}
