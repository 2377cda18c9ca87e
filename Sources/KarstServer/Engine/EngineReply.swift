import KarstCore
import KarstProtocol
import KarstWire

/// A reply on its way to a connection: a frame already rendered, or a job to render as
/// `{"job": …}` (the reply of Submit, Get, Cancel, Hold, Release and Complete) where it is
/// delivered: a connection's event loop renders it, off the engine thread, from a snapshot the
/// engine takes once the batch is committed (so the reply shows the job as acknowledged).
public enum EngineReply: Sendable {
    case frame([UInt8])
    case job(JobSnapshot)

    /// The framed reply.
    public var frame: [UInt8] {
        switch self {
        case .frame(let f): f
        case .job(let snapshot): VarlinkReply.frame(parameters: SchedulerInterface.Get.Reply(job: WireMapping.job(snapshot)))
        }
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
