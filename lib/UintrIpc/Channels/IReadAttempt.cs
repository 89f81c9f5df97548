namespace UintrIpc.Channels;

/// <summary>One non-blocking read (or peek) that a consumer's wait retries until it succeeds.</summary>
internal interface IReadAttempt
{
    /// <summary>Reads (or checks) once; true when it got something.</summary>
    bool TryRead();
}
