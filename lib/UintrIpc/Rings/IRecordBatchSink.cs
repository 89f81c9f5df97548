using UintrIpc.Channels;

namespace UintrIpc.Rings;

/// <summary>What a message channel adds to a <see cref="RecordBatch"/> of its ring: per record at commit, and once per batch.</summary>
internal interface IRecordBatchSink
{
    /// <summary>Bytes each record holds after the caller's payload (a channel's checksum), or 0.</summary>
    int Trailer { get; }

    /// <summary>Before the commit publishes a record: its whole payload, trailer included, still invisible (plain stores here are published by it).</summary>
    void Committing(int type, Span<byte> payload);

    /// <summary>After a batch was committed or aborted.</summary>
    void Completed();
}
