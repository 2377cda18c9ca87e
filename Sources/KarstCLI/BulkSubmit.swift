import ArgumentParser
import KarstClient
import KarstCore
import KarstProtocol

/// The job specs in a `--file`: one JSON object (a JobSpec, or `{"job": …}`), a JSON array of
/// them, or JSON Lines (one object per line; blank lines skipped). Each comes with where it was
/// read, for errors (`jobs.jsonl:17`).
enum SpecFile {
    static func objects(in bytes: [UInt8], named name: String) throws -> [(String, JSONObject)] {
        let whole: JSONValue
        do { whole = try JSONParser.parse(bytes) } catch {
            return try lines(bytes, named: name, wholeError: error)
        }
        switch whole {
        case .object(let o): return [(name, o)]
        case .array(let a) where !a.isEmpty:
            return try a.enumerated().map { i, v in
                guard case .object(let o) = v else { throw ValidationError("\(name): element \(i) is not a JSON object (a JobSpec)") }
                return ("\(name)[\(i)]", o)
            }
        default: throw ValidationError("\(name) must hold a JSON object (a JobSpec), an array of them, or one per line")
        }
    }

    private static func lines(_ bytes: [UInt8], named name: String, wholeError: JSONParser.Failure) throws -> [(String, JSONObject)] {
        var out: [(String, JSONObject)] = []
        var line = 0
        var start = 0
        while start < bytes.count {
            line += 1
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let text = bytes[start..<end]
            start = end + 1
            if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let v: JSONValue
            do { v = try JSONParser.parse(text) } catch {
                // One line only: the whole file's error is the one to show.
                if line == 1 && start >= bytes.count { throw ValidationError("\(name): \(wholeError)") }
                throw ValidationError("\(name):\(line): \(error)")
            }
            guard case .object(let o) = v else { throw ValidationError("\(name):\(line): not a JSON object (a JobSpec)") }
            out.append(("\(name):\(line)", o))
        }
        if out.isEmpty { throw ValidationError("\(name) holds no job spec") }
        return out
    }
}

/// `--array`: `N` (indices 0 to N-1), `A-B`, or a comma-separated list of indices and ranges
/// (`0-9,20,30-39`).
enum ArrayIndices {
    /// Jobs one `karstctl submit` may send: indices times specs.
    static let maxJobs = 1_000_000
    /// The largest index.
    static let maxIndex = 999_999_999

    static func parse(_ text: String, count specs: Int) throws -> [Int] {
        func bad(_ why: String) -> ValidationError {
            ValidationError("--array \(text.prefix(64)): \(why) (N, A-B, or a list such as 0-9,20,30-39)")
        }
        func index(_ s: Substring) throws -> Int {
            guard let n = Int(s), n >= 0 else { throw bad("'\(s.prefix(32))' is not an index (0 or more)") }
            guard n <= maxIndex else { throw bad("an index is at most \(maxIndex), not \(n)") }
            return n
        }
        var ranges: [ClosedRange<Int>] = []
        if !text.contains(","), !text.contains("-") {
            let n = try index(Substring(text))
            guard n > 0 else { throw bad("at least one job") }
            ranges = [0...(n - 1)]
        } else {
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let ends = item.split(separator: "-", omittingEmptySubsequences: false)
                switch ends.count {
                case 1: let i = try index(ends[0]); ranges.append(i...i)
                case 2:
                    let a = try index(ends[0]), b = try index(ends[1])
                    guard a <= b else { throw bad("\(a)-\(b) runs backwards") }
                    ranges.append(a...b)
                default: throw bad("'\(item.prefix(32))' is not an index or a range")
                }
            }
        }
        let total = ranges.reduce(0) { $0 + $1.count }
        guard total.multipliedReportingOverflow(by: specs).partialValue <= maxJobs, total <= maxJobs else {
            throw bad("at most \(maxJobs) jobs in one call, not \(total) × \(specs)")
        }
        var seen = Set<Int>()
        var out: [Int] = []
        out.reserveCapacity(total)
        for r in ranges {
            for i in r where seen.insert(i).inserted { out.append(i) }
        }
        return out
    }

    /// Each spec once per index: the name gets `-INDEX` (`array-INDEX` when it had none), and a
    /// command's environment `KARST_ARRAY_INDEX` and `KARST_ARRAY_COUNT` (as Slurm's
    /// `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT`).
    static func expand(_ specs: [WireJobSpec], _ indices: [Int]) -> [WireJobSpec] {
        var out: [WireJobSpec] = []
        out.reserveCapacity(specs.count * indices.count)
        let count = String(indices.count)
        for spec in specs {
            let base = spec.name ?? "array"
            for i in indices {
                var s = spec
                s.name = "\(base)-\(i)"
                if s.command != nil {
                    var env = s.environment ?? [:]
                    env["KARST_ARRAY_INDEX"] = String(i)
                    env["KARST_ARRAY_COUNT"] = count
                    s.environment = env
                }
                out.append(s)
            }
        }
        return out
    }
}

/// Many jobs over one connection: `SubmitBatch` calls (`brief`) of at most `chunkBytes` and
/// `maxBatchJobs` each, in order. The daemon takes each call whole or not at all; when a later
/// call is refused, the jobs the earlier ones queued are cancelled before karstctl reports the
/// refusal, so the submission as a whole is all or none (the cancelled jobs stay in the history).
struct BulkSubmit {
    var daemon: Daemon
    var json: Bool
    /// A call's size: under the daemon's default `max_message_bytes` (1 MiB) with room to spare.
    static let chunkBytes = 768 << 10
    /// `SubmitBatch`'s limit on jobs per call (docs/PROTOCOL.md).
    static let maxBatchJobs = SpecBounds.maxBatchJobs

    /// Calls sent before the first reply is read: the daemon reads and checks the next while
    /// its engine queues and commits the one before. One connection, so the jobs get their ids
    /// in the order given (an array's index 0 is queued before its index 1); more connections
    /// measured no faster, the daemon's engine being the bound (docs/BENCHMARKS.md).
    static let window = 4

    func run(_ specs: [WireJobSpec]) throws {
        // Each spec encoded once: its size decides the chunks, its bytes go into the call.
        let encoded = specs.map { s -> [UInt8] in
            var w = JSONWriter(capacity: 512)
            s.write(to: &w)
            return w.bytes
        }
        let chunks = Self.chunks(sizes: encoded.map(\.count))
        let c = try daemon.open()
        defer { c.close() }
        var ids: [String] = []
        ids.reserveCapacity(specs.count)
        var sent = 0
        var refusal: (Range<Int>, Failure)? = nil
        for (k, chunk) in chunks.enumerated() {
            // Keep `window` calls in flight; after a refusal, send nothing more.
            while sent < chunks.count, sent < k + Self.window, refusal == nil {
                let range = chunks[sent]
                let frame = VarlinkCall.frame(method: SchedulerInterface.SubmitBatch.name) { w in
                    w.key("jobs")
                    w.beginArray()
                    for bytes in encoded[range] { w.raw(bytes) }
                    w.endArray()
                    w.key("brief"); w.bool(true)
                }
                do { try c.send(frame) } catch {
                    refusal = (range, .unreachable(error.description))
                    break
                }
                sent += 1
            }
            guard k < sent else { break }
            do {
                let reply = try Failure.map { try c.receive() }
                if let e = reply.error { throw Failure.refused(e) }
                guard case .array(let got)? = reply.parameters["ids"], got.count == chunk.count else {
                    throw Failure.malformed("SubmitBatch's reply has no ids for its \(chunk.count) jobs (an older daemon?)")
                }
                for v in got { ids.append(v.stringValue ?? "?") }
            } catch {
                let f = error as? Failure ?? .malformed("\(error)")
                if refusal == nil { refusal = (chunk, f) }
                // A refusal leaves the calls in flight to be read (they may have been queued);
                // a lost connection, nothing.
                if case .refused = f {} else { break }
            }
        }
        if let (range, f) = refusal {
            let undone = undo(ids)
            if case .refused(let e) = f {
                printErr("karstctl: jobs \(range.lowerBound + 1)–\(range.upperBound) of \(specs.count) refused: "
                    + "\(Failure.refused(renumbered(e, from: range.lowerBound)))")
            } else {
                printErr("karstctl: jobs \(range.lowerBound + 1)–\(range.upperBound) of \(specs.count): \(f)")
            }
            if !ids.isEmpty { printErr("karstctl: \(undone) of the \(ids.count) jobs already queued were cancelled") }
            throw ExitCode(f.exitCode)
        }
        if json {
            print(String(decoding: JSONValue.object(["ids": .array(ids.map { .string($0) })]).encoded, as: UTF8.self))
        } else {
            print("\(ids.count) jobs queued: \(ids.first ?? "") … \(ids.last ?? "")")
        }
    }

    /// The calls: consecutive ranges of at most `chunkBytes` of encoded specs (each `sizes`
    /// long, plus its comma) and `maxBatchJobs` jobs; a spec larger than that goes alone.
    static func chunks(sizes: [Int]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        while start < sizes.count {
            var end = start
            var bytes = 0
            while end < sizes.count, end - start < maxBatchJobs {
                if end > start, bytes + sizes[end] + 1 > chunkBytes { break }
                bytes += sizes[end] + 1
                end += 1
            }
            out.append(start..<end)
            start = end
        }
        return out
    }

    /// Cancels what was queued; returns how many were.
    private func undo(_ ids: [String]) -> Int {
        guard !ids.isEmpty, let c = try? daemon.open() else { return 0 }
        defer { c.close() }
        var done = 0
        for id in ids where (try? c.call("io.karst.Scheduler.Cancel", ["id": .string(id)])) != nil { done += 1 }
        return done
    }

    /// The daemon names a bad spec `jobs[i]` within its call: renumbered within the whole input.
    private func renumbered(_ e: VarlinkError, from offset: Int) -> VarlinkError {
        guard offset > 0, case .string(let field)? = e.parameters["field"], field.hasPrefix("jobs["),
              let close = field.firstIndex(of: "]"),
              let i = Int(field[field.index(field.startIndex, offsetBy: 5)..<close]) else { return e }
        var p = e.parameters
        p["field"] = .string("jobs[\(offset + i)]" + field[field.index(after: close)...])
        return VarlinkError(e.name, p)
    }
}
