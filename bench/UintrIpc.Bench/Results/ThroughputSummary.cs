namespace UintrIpc.Bench.Results;

/// <summary>One-way rate over the measured part, timed by the consumer.</summary>
internal sealed record ThroughputSummary(double MessagesPerSecond, double BytesPerSecond, double NanosecondsPerMessage, double ElapsedNanoseconds)
{
    public static ThroughputSummary From(long messages, int messageSize, double elapsedNs)
    {
        double perSecond = elapsedNs > 0 ? messages * 1e9 / elapsedNs : 0;
        return new(perSecond, perSecond * messageSize, messages > 0 ? elapsedNs / messages : 0, elapsedNs);
    }
}
