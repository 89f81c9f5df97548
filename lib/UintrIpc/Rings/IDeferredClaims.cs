namespace UintrIpc.Rings;

/// <summary>
/// The owner of a <see cref="ProducerThreadCache"/>: writes the claimed markers its cached thread
/// deferred (uintripc.h 2d), before the <see cref="ProducerTable"/> ends that thread's registration
/// because the thread exited.
/// </summary>
internal interface IDeferredClaims
{
    /// <summary>Marks the cached thread's open claim whose markers are still deferred, if any.</summary>
    void MarkDeferredClaims();
}
