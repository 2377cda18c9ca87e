import NIOCore
import ServiceLifecycle

/// Waits while a listening channel serves, and closes it on a graceful shutdown or on the task's
/// cancellation (waiting on a close future alone does not end with cancellation: a listener
/// would then outlive a service group that cancels it).
func serveUntilShutdown(_ channel: Channel) async {
    await withTaskCancellationHandler {
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    } onCancel: {
        channel.close(promise: nil)
    }
}
