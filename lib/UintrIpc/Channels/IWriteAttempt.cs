namespace UintrIpc.Channels;

/// <summary>One non-blocking write that a writer waiting for room retries until it succeeds.</summary>
internal interface IWriteAttempt
{
    /// <summary>Writes once; true when it was written (false: no room now, or the channel is completed).</summary>
    bool TryWrite();

    /// <summary>Whether the ring has room for this write now (a hint: another writer may take it first).</summary>
    bool HasRoom { get; }
}
