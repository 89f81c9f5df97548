namespace UintrIpc.Rpc;

/// <summary>What an <see cref="RpcClient"/> rejected or gave up on, since it connected.</summary>
/// <param name="TimedOut">Calls that ended with a TimeoutException (their slots were freed when the late answer came).</param>
/// <param name="Cancelled">Asynchronous calls that were cancelled.</param>
/// <param name="LateResponses">Answers that came after their call had timed out or was cancelled.</param>
/// <param name="UnknownIds">Responses whose id names no call slot.</param>
/// <param name="StaleIds">Responses whose id carries an old generation of its slot.</param>
/// <param name="DuplicateIds">Responses to a call that had been answered already.</param>
/// <param name="InvalidResponses">Responses with more output than the call allowed (the session is then ended).</param>
internal readonly record struct RpcClientStatistics(
    long TimedOut,
    long Cancelled,
    long LateResponses,
    long UnknownIds,
    long StaleIds,
    long DuplicateIds,
    long InvalidResponses);
