import KarstCore

/// Before fuzzing: one unmutated call of every method (Submit first, so that ids exist), to
/// show the templates are valid calls. Returns report lines: how each was answered.
enum FuzzSelfCheck {
    static func run(_ templates: FuzzTemplates, socket: String, seed: UInt64) -> [String] {
        var rng = SeededRandom(seed: seed)
        let ordered = templates.methods.sorted { a, b in (a.name.hasSuffix(".Submit") ? 0 : 1, a.name) < (b.name.hasSuffix(".Submit") ? 0 : 1, b.name) }
        var answers: [String: [String]] = [:]
        for m in ordered {
            guard case .success(let s) = FuzzSocket.connect(socket) else { return ["self-check: cannot connect"] }
            defer { s.close() }
            var inbox = FuzzInbox()
            var seen: [String] = []
            let call = templates.call(m, &rng)
            let streams = FuzzGenerator.opensStream(call)
            let end = FuzzExchange.batch(s, call.framed, token: "self-check", &inbox,
                                         deadline: fuzzClock() + (streams ? 0.3 : 10)) { frame, checked in
                switch checked {
                case .success(let r) where r.error == nil: seen.append("ok")
                case .success(let r) where r.error!.hasSuffix(".NoSuchJob"): seen.append("NoSuchJob")
                case .success: seen.append(String(decoding: frame.prefix(160), as: UTF8.self))
                case .failure(let p): seen.append("NOT VARLINK (\(p.reason))")
                }
            }
            let answer = seen.first ?? (end == .timeout && streams ? "streaming" : "no answer (\(end))")
            answers[answer, default: []].append(String(m.name.split(separator: ".").last ?? ""))
        }
        let summary = answers.sorted { $0.value.count > $1.value.count }.map { "\($0.key): \($0.value.joined(separator: ", "))" }
        return ["valid calls of the \(templates.methods.count) methods, unmutated, answered:"] + summary.map { "  " + $0 }
    }
}
