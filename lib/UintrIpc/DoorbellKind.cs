namespace UintrIpc;

/// <summary>The mechanism a sleeping consumer is woken with (stored in the wait block).</summary>
public enum DoorbellKind : uint
{
    /// <summary>No doorbell: the consumer only spins and yields (lowest latency, burns a core).</summary>
    None = 0,
    /// <summary>FUTEX_WAKE on a 32-bit word in the region (default on stock kernels).</summary>
    Futex = 1,
    /// <summary>write(2) to an eventfd passed to the producer; pollable.</summary>
    EventFd = 2,
    /// <summary>A real-time signal queued to the consumer thread, taken with sigtimedwait (the seed design's path).</summary>
    Signal = 3,
    /// <summary>
    /// Intel user interrupts: SENDUIPI from user mode (needs CPU and kernel support; see
    /// <see cref="Channels.IpcChannel.IsDoorbellAvailable"/>). Never the default (<see cref="Channels.IpcChannel.DefaultDoorbell"/>): the consumer
    /// must create it and read with the blocking methods on one dedicated thread (not a
    /// thread-pool thread; no async reads), and the kernel may end that thread's other
    /// blocking system calls with EINTR when an interrupt arrives.
    /// </summary>
    Uintr = 4,
    /// <summary>A software model of user interrupts in the shim, for tests; never chosen automatically.</summary>
    UintrSimulated = 5,
}
