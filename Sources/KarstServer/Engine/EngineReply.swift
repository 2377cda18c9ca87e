import KarstCore
import KarstProtocol

/// A reply on its way to a connection: a frame already rendered, or a job to render into
/// `{key: job}` where it is delivered.
///
/// Rendering a job (names, timestamps, JSON) was a sixth of the engine thread's time under a
/// stream of submits; a connection's event loop does it instead, from a snapshot the engine
/// takes once the batch is committed (so the reply still shows the job as acknowledged).
public enum EngineReply: Sendable {
    case frame([UInt8])
    case job(key: String, JobSnapshot?)

    /// The framed reply.
    public var frame: [UInt8] {
        switch self {
        case .frame(let f):
            return f
        case .job(let key, let snapshot):
            return VarlinkReply.frame { w in
                w.key(key)
                if let snapshot { WireMapping.job(snapshot).write(to: &w) } else { w.null() }
            }
        }
    }
}

/// A job as the state had it when its reply was due, with the names of its pools (which only
/// the state knows), ready to be rendered on any thread.
///
/// A class: a reply is moved through several arrays on its way to the socket, and a job is
/// hundreds of bytes, so it is boxed once instead of copied at every move.
public final class JobSnapshot: Sendable {
    let job: Job
    let datacenter: String?
    let pool: String?
    let shardPools: [String]
    let queuePosition: Int?

    init(_ job: Job, in state: borrowing SchedulerState, queuePosition: Int? = nil) {
        self.job = job
        let place = job.placement.map { state.names(of: $0) }
        datacenter = place?.datacenter
        pool = place?.pool
        shardPools = job.shards.map { state.names(of: $0.pool).pool }
        self.queuePosition = queuePosition
    }
}

/// A batch's replies gathered by connection, to be handed over one connection at a time.
///
/// A connection's pipelined calls arrive together, so consecutive replies mostly share a sink:
/// the last one is checked before the table is hashed.
struct SinkBatches {
    private var batches: [(sink: ReplySink, replies: [(UInt64, EngineReply)])] = []
    private var index: [ObjectIdentifier: Int] = [:]
    private var last = -1

    mutating func append(_ reply: (UInt64, EngineReply), to sink: ReplySink) {
        if last < 0 || batches[last].sink !== sink {
            let id = ObjectIdentifier(sink)
            if let known = index[id] {
                last = known
            } else {
                last = batches.count
                index[id] = last
                batches.append((sink, []))
            }
        }
        batches[last].replies.append(reply)
    }

    /// Hands every connection its replies, in the order they were appended.
    func deliver() {
        for b in batches { b.sink.deliver(b.replies) }
    }
}
