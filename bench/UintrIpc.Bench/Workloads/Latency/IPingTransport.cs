namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// One side of a ping-pong transport. Implemented by structs, so that the generic loops in
/// <see cref="PingPong"/> are specialised per transport and the calls inlined: no interface
/// dispatch, no allocation in the measured loop.
/// </summary>
internal interface IPingTransport
{
    /// <summary>Sends <paramref name="value"/> to the other side.</summary>
    void Send(long value);

    /// <summary>Waits (bounded by the transport's deadline) for the next value from the other side.</summary>
    long Receive();

    /// <summary>
    /// Waits for the next value without keeping a CPU (sleeps between polls, bounded by the
    /// transport's deadline): the echoer's hold while the harness runs the C floor beside it
    /// (<see cref="FloorSegments"/>). Only the spinning transports of interleaved cases have it.
    /// </summary>
    long ReceiveIdle() => throw new NotSupportedException($"{GetType().Name} cannot hold while the C floor runs");
}
