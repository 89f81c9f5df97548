namespace UintrIpc.Bootstrap;

/// <summary>
/// The peer sent a bootstrap message we do not accept: wrong magic or version, a length
/// or descriptor count that does not match the header, too large a payload, too many
/// descriptors, or an unexpected message type. Every descriptor that came with the
/// message has been closed; the connection stays usable (messages keep their boundaries).
/// Internal: callers catch it as <see cref="UintrIpcException"/> (the message says what was wrong).
/// </summary>
internal sealed class BootstrapProtocolException : UintrIpcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="endpoint">The connection's endpoint.</param>
    /// <param name="problem">What was wrong with the message.</param>
    public BootstrapProtocolException(string endpoint, string problem)
        : this(endpoint, problem, "Is the peer a UintrIpc process of the same version?")
    {
    }

    /// <summary>Creates the exception for a well-formed message that this side's call does not match.</summary>
    /// <param name="endpoint">The connection's endpoint.</param>
    /// <param name="problem">What was wrong with the message.</param>
    /// <param name="whatToDo">What to do about it (a mismatch of the two programs' types or calls is not a version problem).</param>
    public BootstrapProtocolException(string endpoint, string problem, string whatToDo)
        : base($"Invalid bootstrap message on {endpoint}: {problem}. {whatToDo}")
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Problem = problem;
    }

    /// <summary>What was wrong with the message.</summary>
    public string Problem { get; }
}
