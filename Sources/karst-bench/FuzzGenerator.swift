import KarstCore
import KarstProtocol

/// One frame of a campaign, as sent, and what it was made from.
struct FuzzFrame: Sendable {
    /// JSON (or not) + NUL.
    let bytes: [UInt8]
    /// The method whose valid call it was made from.
    let method: String
    /// How it was damaged: mutation and byte-damage names, or "valid".
    let damage: String
    /// A `Watch` with `more`: its replies may never end, so its connection is closed soon after.
    let opensStream: Bool
    /// Not a well-formed message (`FuzzGenerator.isWellFormed`): the daemon will most likely
    /// answer InvalidMessage or FrameTooLarge and close, so nothing is sent after it.
    let closesConnection: Bool
}

/// Makes a connection's frames: a valid call of a method chosen in turn, then (mostly) structure
/// mutations, byte damage, or both. Deterministic for a seed.
struct FuzzGenerator: Sendable {
    let templates: FuzzTemplates
    private let mutator: FuzzMutator
    private var rng: SeededRandom

    init(templates: FuzzTemplates, seed: UInt64) {
        self.templates = templates
        mutator = FuzzMutator(templates: templates)
        rng = SeededRandom(seed: seed)
    }

    mutating func next() -> FuzzFrame {
        let method = rng.pick(templates.methods)
        var call = templates.call(method, &rng)
        var damage: [String] = []
        let roll = rng.below(100)
        if roll >= 5 && roll < 85 {
            let (mutated, kinds) = mutator.mutate(call, &rng)
            call = mutated
            damage += kinds
        }
        var bytes = call.framed
        // Byte damage never touches a Backup call: a flipped bit could move its path elsewhere.
        if roll >= 65 && method.name != FuzzTemplates.backupMethod {
            let (damaged, kind) = FuzzByteDamage.apply(bytes, &rng)
            if !FuzzMutator.mentionsBackup(damaged) {
                bytes = damaged
                damage.append(kind)
            }
        }
        if FuzzMutator.mentionsBackup(bytes), !backupIsSafe(bytes) {
            // Never reached (the mutator sees to it); checked on the bytes themselves all the same.
            bytes = FuzzValue.object([("method", .string("io.karst.Protocol.Ping"))]).framed
            damage = ["unsafe-backup-dropped"]
        }
        return FuzzFrame(bytes: bytes, method: method.name, damage: damage.isEmpty ? "valid" : damage.joined(separator: "+"),
                         opensStream: Self.opensStream(call), closesConnection: !Self.isWellFormed(bytes))
    }

    /// One message within 1 MiB (a single NUL, at the end) that is a JSON object with a string
    /// `method`, no fields but the message fields of Varlink, and flags that are bools or null.
    /// Frames over 64 KiB are not parsed here (the fuzzer's own thread has better uses for its
    /// time than checking its largest inputs) but counted as closing the connection: a batch
    /// that ends early loses nothing.
    static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        guard bytes.count <= 1 << 16, bytes.firstIndex(of: 0) == bytes.count - 1,
              case .object(let o)? = try? JSONParser.parse(bytes.dropLast()), o["method"]?.stringValue != nil else { return false }
        return o.members.allSatisfy { m in
            switch m.key {
            case "method", "parameters": true
            case "more", "oneway", "upgrade": m.value == .null || m.value.boolValue != nil
            default: false
            }
        }
    }

    /// A frame that may name Backup is sent only if it is JSON whose every string is the method
    /// or a path inside the campaign's backup directory (no `..`, no NUL).
    private func backupIsSafe(_ bytes: [UInt8]) -> Bool {
        guard let value = try? JSONParser.parse(bytes.dropLast()) else { return false }
        let inside = templates.vocabulary.backupDirectory + "/"
        func safe(_ v: JSONValue) -> Bool {
            switch v {
            case .string(let s):
                s == FuzzTemplates.backupMethod || (s.hasPrefix(inside) && !s.contains("..") && !s.contains("\0"))
            case .array(let items): items.allSatisfy(safe)
            case .object(let o): o.members.allSatisfy { safe($0.value) }
            default: true
            }
        }
        return safe(value)
    }

    /// Whether the call is a streaming one (`Watch`, an agent's `Connect`) asking for more (then
    /// its sync may wait for ever).
    static func opensStream(_ call: FuzzValue) -> Bool {
        guard case .string(let method)? = call["method"], FuzzTemplates.streamingMethods.contains(method),
              case .bool(true)? = call["more"] else { return false }
        return true
    }
}
