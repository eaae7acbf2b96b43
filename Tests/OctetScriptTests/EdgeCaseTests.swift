import XCTest
@testable import OctetScript
import OctetTensor
import OctetTestSupport

/// Edge cases that once crashed the process or gave wrong answers silently, as snippets
/// checked against their own `# expect` comments (one runtime error per snippet).
final class EdgeCaseTests: XCTestCase {
    func expect(_ source: String, file: StaticString = #filePath, line: UInt = #line) {
        for problem in ScriptHarness.check(source: source) { XCTFail(problem, file: file, line: line) }
    }

    func testCyclicListsAsTensorDataAreErrors() {
        expect("""
        let a = [1]
        a.append(a)
        sum(a)
        # expect error: snippet.octet:3:1: error: sum: nested list is more than 64 levels deep (or contains itself): cannot make a tensor
        """)
    }

    func testRunawaySizesAreErrors() {
        expect("""
        list(range(1000000000000))
        # expect error: snippet.octet:1:1: error: list would have 1000000000000 items, more than the limit of 67108864
        """)
        expect("""
        let s = "ab" * 1000000
        while true { s = s + s }
        # expect error: snippet.octet:2:20: error: string would have 256000000 bytes, more than the limit of 134217728
        """)
        expect("""
        let l = [1]
        while true { l = l + l }
        # expect error: snippet.octet:2:20: error: list would have 134217728 items, more than the limit of 67108864
        """)
        expect("""
        let s = "ab" * 1000000
        while true { s = "\\(s)\\(s)" }
        # expect error: snippet.octet:2:18: error: string would have 256000000 bytes, more than the limit of 134217728
        """)
        expect("""
        print(len("ab".pad(20000)), len("ab".pad(-9223372036854775807 - 1)))
        "ab".pad(9223372036854775807)
        # expect: 20000 2
        # expect error: snippet.octet:2:6: error: string.pad: string would have 9223372036854775805 bytes, more than the limit of 134217728
        """)
        // `*` is bounded by the result's bytes only; `append` / `insert` by the list limit.
        expect("""
        print(len("a" * 2000000), len("" * 9223372036854775807), len("ab" * 67108864))
        "ab" * 4611686018427387904
        # expect: 2000000 0 134217728
        # expect error: snippet.octet:2:6: error: string would have 9223372036854775807 bytes, more than the limit of 134217728
        """)
        expect("""
        let l = list(range(67108864))
        l.append(1)
        # expect error: snippet.octet:2:3: error: list.append: list would have 67108865 items, more than the limit of 67108864
        """)
        expect("""
        min(range(1000000000000))
        # expect error: snippet.octet:1:5: error: min: list would have 1000000000000 items, more than the limit of 67108864
        """)
        // A plain integer is a shape too, checked like a list (it once allocated, or wrapped).
        expect("""
        zeros(9223372036854775807)
        # expect error: snippet.octet:1:7: error: zeros: shape [9223372036854775807] is too large
        """)
        expect("""
        let a = "a" * 1000000
        a.replace("a", a)
        # expect error: snippet.octet:2:3: error: string.replace: string would have 1000000000000 bytes, more than the limit of 134217728
        """)
        // str / join / interpolation stop building as soon as the text passes the limit.
        expect("""
        let l = list(range(20000000))
        str(l)
        # expect error: snippet.octet:2:1: error: str: string would have more bytes than the limit of 134217728
        """)
        expect("""
        let s = "x" * 1000000
        for i in range(6) { s = s + s }
        [s, s, s].join(",")
        # expect error: snippet.octet:3:11: error: list.join: string would have 192000002 bytes, more than the limit of 134217728
        """)
        expect("""
        let l = list(range(20000000))
        print("\\(l)")
        # expect error: snippet.octet:2:7: error: string would have more bytes than the limit of 134217728
        """)
    }

    /// No output replaces a file the script read: write_npy over its input, export_onnx over the
    /// loaded model, dump() into the folder holding them. The files stay as they were.
    func testOutputsDoNotReplaceWhatTheScriptRead() throws {
        let dir = Scratch.directory("read").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NPY.write(Tensor(shape: [2], floats: [1, 2]), path: dir + "/x.npy")
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/data/digits_cnn.onnx").path
        try FileManager.default.copyItem(atPath: model, toPath: dir + "/m.onnx")
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/m.onnx"))
        let r = ScriptHarness.run(source: """
            let t = read_npy("\(dir)/x.npy")
            write_npy(t * 2, "\(dir)/x.npy")
            """, name: "w.octet")
        XCTAssertEqual(r.errors.first, "w.octet:2:18: error: write_npy: \(dir)/x.npy: cannot write: this script read that file; give another path")
        let e = ScriptHarness.run(source: """
            let m = load("\(dir)/m.onnx")
            let q = quantize(m, randn([4, 1, 28, 28]))
            export_onnx(q, "\(dir)/m.onnx")
            """, name: "e.octet")
        XCTAssertTrue(e.errors.first?.hasSuffix("cannot write: this script read that file; give another path") == true, "\(e.errors)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/m.onnx")), before)
        XCTAssertEqual(try NPY.read(path: dir + "/x.npy").floats, [1, 2])
        let d = ScriptHarness.run(source: """
            let m = load("\(dir)/m.onnx")
            let p = deploy(quantize(m, randn([4, 1, 28, 28])))
            dump(p, randn([1, 1, 28, 28]), "\(dir)")
            """, name: "d.octet")
        XCTAssertTrue(d.errors.first?.contains("holds \(dir)/m.onnx, which this script read, and a dump replaces the folder") == true, "\(d.errors)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/m.onnx")), before)
        // A dump the script wrote and then read may be written again.
        let again = ScriptHarness.run(source: """
            let m = load("\(dir)/m.onnx")
            let p = deploy(quantize(m, randn([4, 1, 28, 28])))
            dump(p, randn([1, 1, 28, 28]), "\(dir)/dd")
            let c = compare_dumps("\(dir)/dd", "\(dir)/dd")
            let first = read_npy("\(dir)/dd/int8/conv1.npy")
            dump(p, randn([1, 1, 28, 28]), "\(dir)/dd")
            print("rewritten")
            """, name: "again.octet")
        XCTAssertEqual(again.errors, [])
        XCTAssertEqual(again.output, ["rewritten"])
        // A new file inside an image folder the script read: the message names the folder.
        let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../OctetTensorTests/Fixtures/images/classes").standardized.path
        try FileManager.default.copyItem(atPath: images, toPath: dir + "/imgs")
        let f = ScriptHarness.run(source: """
            let d = dataset("\(dir)/imgs")
            write_npy(zeros([1]), "\(dir)/imgs/new.npy")
            """, name: "f.octet")
        XCTAssertEqual(f.errors.first, "f.octet:2:23: error: write_npy: \(dir)/imgs/new.npy: cannot write: it is inside \(dir)/imgs, which this script read; give another path")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/imgs/new.npy"))
    }

    /// NaN propagates through max / min whatever its position and is what argmax / argmin point
    /// at (NumPy); a NaN logit makes an accuracy miss; whole-tensor sums are 64-bit reals; label
    /// lists stay exact integers and reals that are not whole are refused.
    func testNaNReductionsSumsAndLabels() {
        expect("""
        let n = float("nan")
        print(tensor([n, 1, 2]).max(), tensor([1, n, 2]).max(), max(n, 1), max(1, n), min(1, n), max([1, n]))
        print(tensor([1.0, n, 3.0]).argmax(), tensor([n, 5.0]).argmin(), tensor([2.0, 5.0]).argmax())
        print(accuracy(tensor([[n, n, n]]), [2]), accuracy(tensor([[0.0, 1.0, n]]), [1]), accuracy(tensor([[0.0, 1.0, 0.5]]), [1]))
        print(tensor([3e38, 3e38]).sum() > 5e38, sum(tensor([1.5, 2.5])))
        print(dataset(zeros([2, 1]), labels: [123456789, 16777217]).labels)
        dataset(zeros([2, 1]), labels: [1.5, 2])
        # expect: nan nan nan nan nan nan
        # expect: 1 0 1
        # expect: 0.0 0.0 1.0
        # expect: true 4.0
        # expect: Tensor int64 [2]
        # expect: [123456789, 16777217]
        # expect error: snippet.octet:7:24: error: dataset: label 1.5 at index 0 is not an integer
        """)
    }

    /// Lexer errors stop at the diagnostic limit; an interpolation met after it (or past the depth
    /// limit) is skipped without crashing the parser (found while fuzzing the parser).
    func testInterpolationAfterTheErrorLimitParses() {
        let (_, d) = Parser.parse(String(repeating: "@", count: 60) + "\nprint(\"a\\(1)b\")\n", file: "f.octet")
        XCTAssertTrue((Parser.maxDiagnostics...Parser.maxDiagnostics + 2).contains(d.count), "\(d.count)")  // lexer's 50, then the parser's
        let deep = String(repeating: "\"\\(", count: 250) + "1" + String(repeating: ")\"", count: 250)
        XCTAssertFalse(Parser.parse("print(" + String(repeating: "@", count: 60) + deep + ")\n", file: "g.octet").1.isEmpty)
    }

    /// Interpolation nested past the parser's depth limit is a syntax error found without
    /// re-lexing every level (the re-lexing made it quadratic in the line's length).
    func testDeeplyNestedInterpolationIsASyntaxError() {
        let n = 5000
        let r = ScriptHarness.run(source: "print(" + String(repeating: "\"\\(", count: n) + "1" + String(repeating: ")\"", count: n) + ")",
                                  name: "deep.octet")
        XCTAssertTrue(r.errors.contains { $0.contains("nested too deeply (limit 200)") }, "\(r.errors.map { $0.prefix(200) })")
        let ok = ScriptHarness.run(source: "print(" + String(repeating: "\"\\(", count: 50) + "1" + String(repeating: ")\"", count: 50) + ")",
                                   name: "ok.octet")
        XCTAssertEqual(ok.output, ["1"])
    }

    /// Integer tensors are summed in Int64 (through float32 the sum was rounded, and converting
    /// it back trapped near Int64.max).
    func testIntegerTensorSumOverflowIsAnError() {
        expect("""
        let near = arange(9223372036854775805, 9223372036854775807)
        print(near.reshape([1, 2]).max(axis: 1).dtype)
        near.sum()
        # expect: int64
        # expect error: snippet.octet:3:6: error: Tensor.sum: integer overflow: the sum leaves the int64 range
        """)
    }

    /// Integers beyond 2^24 stay exact through tensor(), transpose, mean, min/max, and reals in
    /// list sums are 64-bit (all of these went through float32).
    func testIntegersAndRealsKeepTheirPrecision() {
        expect("""
        print(tensor([16777217], dtype: "int64").to_list(), tensor([9223372036854775807], dtype: "int64").to_list())
        let col = arange(16777217, 16777220).reshape([3, 1])
        print(col.T.to_list(), col.T.dtype)
        print(tensor([16777217], dtype: "int32").mean(), max(col), min(tensor([100000001], dtype: "int32")))
        print(sum([16777217.0, 1.0]), sum([1e300]), mean([16777217, 16777217]))
        # expect: [16777217] [9223372036854775807]
        # expect: [[16777217, 16777218, 16777219]] int64
        # expect: 16777217.0 16777219 100000001
        # expect: 16777218.0 1e+300 16777217.0
        """)
    }

    /// `sum` of a range is the exact series n · (first + last) / 2, as of the list it lists.
    func testSumOfARange() {
        expect("""
        print(sum(range(1000000)), sum(range(1, 101)), sum(range(10, 0, -3)), sum(range(5, 5)), sum(range(-3, 4)))
        print(sum(range(-4294967295, 0)), sum(range(3)) == sum(list(range(3))))
        # expect: 499999500000 5050 22 0 0
        # expect: -9223372034707292160 true
        sum(range(4294967296, 8589934592))
        # expect error: snippet.octet:5:1: error: sum: integer overflow
        """)
    }

    /// Integers compare with reals exactly, as in Python, in comparisons, `==`, `max`, `min` and `sorted`
    /// (through doubles, 2^53 + 1 == 2^53.0 was true).
    func testIntegerRealComparisonsAreExact() {
        expect("""
        print(9007199254740993 == 9007199254740992.0, 9007199254740993 > 9007199254740992.0, 9007199254740992 == 9007199254740992.0)
        print(9223372036854775807 < 9223372036854775808.0, -9223372036854775807 - 1 == -9223372036854775808.0, 3 == 3.0, 3 < 3.5, 4 > 3.5)
        let n = float("nan")
        print(1 == n, 1 != n, 1 < n, 2.5 >= 2, [9007199254740993] == [9007199254740992.0], [3] == [3.0])
        print(max(9007199254740992.0, 9007199254740993), min(9007199254740993, 9007199254740992.0), [9007199254740993, 9007199254740992.0, n, 1].sorted())
        # expect: false true true
        # expect: true true true true true
        # expect: false true false true false true
        # expect: 9007199254740993 9007199254740992.0 [1, 9007199254740992.0, 9007199254740993, nan]
        """)
    }

    /// Each image of a folder fits a tensor, the decoded batch of all of them does not: refused
    /// before decoding (it tried to allocate 9.7 GB).
    func testImageDatasetsTooLargeToDecodeAreErrors() {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../OctetTensorTests/Fixtures/images/classes").standardized.path
        expect("""
        let d = dataset("\(folder)", resize: [16384, 16384])
        print(d.count)
        observer("diffs").observe(d)
        # expect: 3
        # expect error: snippet.octet:3:19: error: Observer.observe: \(folder): 3 samples of [3, 16384, 16384] are too large for one tensor; take fewer or resize smaller
        """)
        expect("""
        let d = dataset("\(folder)", resize: [16384, 16384])
        d.images
        # expect error: snippet.octet:2:3: error: \(folder): 3 samples of [3, 16384, 16384] are too large for one tensor; take fewer or resize smaller
        """)
    }

    /// repr escapes what the lexer reads back (\\r, \\0, CR LF as two escapes); floor, ceil and round
    /// return integers unchanged (through doubles 2^53 + 1 became 2^53, and 2^63 − 1 was an error);
    /// a table's rows count from the end with negative indices; min/max name the item once.
    func testReprRoundingTablesAndExtremaMessages() {
        expect("""
        print(repr(["a\\r\\nb\\0c\\t\\"\\\\"]))
        print(floor(9007199254740993), ceil(9007199254740993), round(9223372036854775807), floor(-2.5), round(-2.5))
        let t = table([{a: 1}, {a: 2}])
        print(table([{x: 1e300, y: 1e-300, z: 2.5, w: 0.015625}]))
        print(t[-1].a, t[-2].a, repr("a\\r\\nb".split("\\n")), "a\\r\\nb".contains("\\n"), repr(",a,,b,".split(",")))
        min(1, "a")
        # expect: ["a\\r\\nb\\0c\\t\\"\\\\"]
        # expect: 9007199254740993 9007199254740993 9223372036854775807 -3 -3
        # expect: x       y       z     w
        # expect: ------  ------  ----  --------
        # expect: 1e+300  1e-300  2.50  0.015625
        # expect: 2 1 ["a\\r", "b"] true ["", "a", "", "b", ""]
        # expect error: snippet.octet:6:1: error: min: item 2 is string, not a number
        """)
    }

    /// A line break or tab in a text-table cell or column name is shown escaped, so each row
    /// stays one line and the columns stay aligned.
    func testTableCellsWithLineBreaksStayOnOneLine() {
        expect("""
        print(table([{"n\\tame": "a\\nb", v: 1}, {"n\\tame": "c\\r\\nd", v: 22}]))
        # expect: n\\tame  v
        # expect: ------  --
        # expect: a\\nb     1
        # expect: c\\r\\nd  22
        """)
    }

    /// Case mapping and quoting can grow a string past the limit; the result is checked.
    func testCaseMappingAndReprKeepTheStringLimit() {
        expect("""
        let s = ("ΐ" * 1000000) * 23
        s.upper()
        # expect error: snippet.octet:2:3: error: string.upper: string would have 138000000 bytes, more than the limit of 134217728
        """)
        expect("""
        let s = ("\\\\" * 1000000) * 100
        repr(s)
        # expect error: snippet.octet:2:1: error: repr: string would have 200000002 bytes, more than the limit of 134217728
        """)
    }

    /// Lists and records nested millions deep print in linear time and are freed without recursion
    /// (freeing overflowed the stack; printing copied every level).
    func testDeeplyNestedValuesPrintAndAreFreed() {
        expect("""
        let a = []
        for i in 0..<3000000 { a = [a] }
        print(len(str(a)))
        a = nil
        let r = {}
        for i in 0..<1000000 { r = {x: r, y: [r]} }
        let chain = {}
        for i in 0..<1000000 { chain = {x: chain} }
        print(len(repr(chain)))
        r = nil
        print("freed")
        # expect: 6000002
        # expect: 5000002
        # expect: freed
        """)
    }

    /// help() takes a builtin's name; sorting a list holding NaN puts NaN last; a split that
    /// leaves a part empty is an error.
    func testHelpByNameNaNSortAndEmptySplit() {
        expect("""
        help("sum")
        let n = 1e308 * 10 - 1e308 * 10
        print([3.0, n, 1.0, n, 2.0, 0.5].sorted(), [9007199254740993, 9007199254740992].sorted())
        dataset(tensor([[1.0], [2.0], [3.0]])).split(0.9)
        # expect: sum(values, axis: nil)
        # expect:   Sum of all elements, or along `axis` (a tensor). Lists of numbers and ranges work too.
        # expect: [0.5, 1.0, 2.0, 3.0, nan, nan] [9007199254740992, 9007199254740993]
        # expect error: snippet.octet:4:46: error: Dataset.split: split fraction 0.9 of 3 samples leaves 3 and 0: both parts need samples
        """)
        expect("""
        tensor([true, false])
        # expect error: snippet.octet:1:8: error: tensor: argument 1 must be a tensor or a nested list of numbers, got list
        """)
        expect("""
        arange(5)[range(0, 4, 2)]
        # expect error: snippet.octet:1:10: error: tensor index ranges take step 1, got range(0, 4, 2)
        """)
        expect("""
        help("no_such_function")
        # expect error: snippet.octet:1:6: error: help: no function named 'no_such_function'
        """)
    }

    func testRangesTooLongToCountAreErrors() {
        expect("""
        len(range(0, -9223372036854775807 - 1, -1))
        # expect error: snippet.octet:1:5: error: range: range(0, -9223372036854775808, -1) has 9223372036854775808 elements, more than 9223372036854775807
        """)
        expect("""
        len(-5..<9223372036854775807)
        # expect error: snippet.octet:1:7: error: -5..<9223372036854775807 has 9223372036854775812 elements, more than 9223372036854775807
        """)
        expect("""
        arange(0, 9223372036854775807)
        # expect error: snippet.octet:1:1: error: arange: arange would create 9223372036854775807 elements
        """)
        expect("""
        arange(0, 1e300, 1.0)
        # expect error: snippet.octet:1:1: error: arange: arange would create 1e+300 elements
        """)
    }

    func testIntegerCastsRefuseValuesOutOfRange() {
        expect("""
        print(tensor([1.9, -1.9, 127.5, -128.9], dtype: "int8").to_list())   # expect: [1, -1, 127, -128]
        print(tensor([255, 0], dtype: "int32").astype("uint8").to_list())   # expect: [255, 0]
        tensor(300, dtype: "int8")
        # expect error: snippet.octet:3:1: error: tensor: cannot convert 300 to int8 (range -128...127)
        """)
        expect("""
        tensor(1e30).astype("int64")
        # expect error: snippet.octet:1:14: error: Tensor.astype: cannot convert 1e+30 to int64 (range -9223372036854775808...9223372036854775807)
        """)
        expect("""
        tensor(1e30).astype("int8")
        # expect error: snippet.octet:1:14: error: Tensor.astype: cannot convert 1e+30 to int8 (range -128...127)
        """)
        expect("""
        tensor(float("nan")).astype("int32")
        # expect error: snippet.octet:1:22: error: Tensor.astype: cannot convert nan to int32 (range -2147483648...2147483647)
        """)
        expect("""
        tensor([256, 1], dtype: "int32").astype("uint8")
        # expect error: snippet.octet:1:34: error: Tensor.astype: cannot convert 256 to uint8 (range 0...255)
        """)
    }

    func testErrorsInCallbacksOfBuiltinsPointAtTheScript() {
        expect("""
        [1, 2].map(fn(a, b) { 1 })
        # expect error: snippet.octet:1:8: error: <closure>: missing argument 'b'
        """)
        expect("""
        let xs = [1, 2]
        xs.map(fn(x) { x / 0 })
        # expect error: snippet.octet:2:18: error: division by zero
        # expect stack: in <closure> at snippet.octet:2:18
        # expect stack: in <script> at snippet.octet:2:4
        """)
    }

    func testBuiltinPositionalParametersByName() {
        expect("""
        print(sqrt(x: 4), len(value: [1, 2]))   # expect: 2.0 2
        let l = [1]
        l.append(item: 3)
        print(l)                                # expect: [1, 3]
        print(range(1, end: 4), "abc".split(separator: "b"))   # expect: 1..<4 ["a", "c"]
        sqrt(4, x: 3)
        # expect error: snippet.octet:6:9: error: sqrt: argument 'x' given twice
        """)
        expect("""
        sqrt(y: 4)
        # expect error: snippet.octet:1:6: error: sqrt: unknown argument 'y'; accepted: x
        """)
        expect("""
        [1].append(3, item: 4)
        # expect error: snippet.octet:1:15: error: list.append: argument 'item' given twice
        """)
    }

    func testIterationErrorsOfObjectsHaveALocation() {
        expect("""
        for x in tensor(5) {}
        # expect error: snippet.octet:1:10: error: cannot iterate over a rank-0 tensor
        """)
    }

    func testInvisibleCharactersAreEscapedInDiagnostics() {
        expect("""
        let a = 1 \u{0} + 2
        let b = 1 \u{A0}+ 2
        # expect error: snippet.octet:1:11: error: unexpected character '\\0'
        # expect error: snippet.octet:2:11: error: unexpected character 'U+00A0'
        """)
    }

    func testCRLFLineEndsAreNewlines() {
        let result = ScriptHarness.run(source: "let a = 1\r\nprint(a + 1)\r\nprint(a +)\r\n", name: "crlf.octet")
        XCTAssertEqual(result.output, [])
        XCTAssertEqual(result.errors, ["crlf.octet:3:10: error: expected expression, found ')'"])
        XCTAssertEqual(ScriptHarness.run(source: "let a = 1\r\nprint(a + 1)\r\n", name: "crlf.octet").output, ["2"])
        XCTAssertEqual(SourceFile(name: "x", text: "a\r\nb\r\n").lines, ["a", "b", ""])
    }

    /// A model whose input is int64 runs on an int64 tensor as given (Gather of element 2 of
    /// [2, 3, 5, 7] is 5, as onnxruntime computes in the fixture); other data still becomes float32.
    func testIntegerInputModelRunsOnIntegerTensors() {
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../OctetGraphTests/Fixtures/ops/gather_shape_int64/model.onnx").standardized.path
        let r = ScriptHarness.run(source: """
            let m = load("\(model)")
            print(m.run(tensor([2, 3, 5, 7], dtype: "int64")).item())
            """, name: "ids.octet")
        XCTAssertEqual(r.errors, [])
        XCTAssertEqual(r.output, ["5"])
    }

    /// A lone CR (classic Mac line ends) ends a line too, in the lexer and in quoted lines.
    func testLoneCRLineEndsAreNewlines() {
        let result = ScriptHarness.run(source: "let a = 1\rprint(a + 1)\rprint(a +)\r", name: "cr.octet")
        XCTAssertEqual(result.errors, ["cr.octet:3:10: error: expected expression, found ')'"])
        XCTAssertEqual(ScriptHarness.run(source: "let a = 1\rprint(a + 1)\r", name: "cr.octet").output, ["2"])
        XCTAssertEqual(SourceFile(name: "x", text: "a\rb\r\nc\n\rd").lines, ["a", "b", "c", "", "d"])
    }

    /// Chains of operators or calls are limited (each link is a level the interpreter walks
    /// recursively): 2 000 000 terms crashed the process, 100 000 still run.
    func testOverlongChainsAreSyntaxErrors() {
        let ok = ScriptHarness.run(source: "print(" + Array(repeating: "1", count: 100_000).joined(separator: " + ") + ")", name: "ok.octet")
        XCTAssertEqual(ok.output, ["100000"])
        XCTAssertEqual(ok.errors, [])
        let long = ScriptHarness.run(source: "let x = " + Array(repeating: "1", count: 100_002).joined(separator: " + "), name: "long.octet")
        XCTAssertEqual(long.errors.first?.hasSuffix("error: expression chains more than 100000 operators or calls; split it"), true, "\(long.errors)")
        let calls = ScriptHarness.run(source: "let s = \"a\"" + String(repeating: ".upper()", count: 100_001), name: "calls.octet")
        XCTAssertEqual(calls.errors.count, 1, "\(calls.errors)")
    }

    /// `break` / `continue` outside a loop (also inside a function defined in a loop) are syntax
    /// errors found before anything runs, not runtime errors when the function is called.
    func testBreakOutsideALoopIsASyntaxError() {
        let r = ScriptHarness.run(source: "print(1)\nfn f() { break }\nwhile true { fn g() { continue }\n break }\n", name: "b.octet")
        XCTAssertEqual(r.output, [])
        XCTAssertEqual(r.errors, ["b.octet:2:10: error: 'break' outside a loop", "b.octet:3:23: error: 'continue' outside a loop"])
        XCTAssertEqual(ScriptHarness.run(source: "for i in 0..<3 { if i == 1 { continue }\n print(i) }", name: "ok.octet").output, ["0", "2"])
    }
}
