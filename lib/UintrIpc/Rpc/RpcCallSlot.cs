using System.Threading.Tasks.Sources;

namespace UintrIpc.Rpc;

// Design:
//   One call slot of the client (uintripc_rpc.h section 2), private memory. Two words decide
//   who may do what, so that a slot is freed only when nobody can write into it any more:
//     Ticket  generation << 32 | 1 while the server side is open (the call waits for its one
//             response). Whoever takes the server side clears bit 0 with a CAS that also checks
//             the generation: the reader routing a response with this id, or the reader failing
//             every call of a lost session. A response whose id does not match fails the CAS:
//             stale (other generation) or duplicate (bit already clear), never mistaken for
//             the current call, even if the slot is being reused at that moment.
//     State   Pending -> Completed | Failed (by the taker of the server side) or -> Abandoned
//             (by the caller on timeout or cancellation), a CAS either way: whichever comes
//             first wins; an answer that finds Abandoned is counted as late.
//   Holds: 2 at submission, one for the server side and one for the caller (a synchronous
//   caller drops it when it returns, an asynchronous one in GetResult); the slot and its arena
//   block go back to the free lists when both are dropped. A synchronous caller that routes its
//   own answer as the reader keeps the server's hold and drops both at once (ServerHoldKept).

/// <summary>One call slot: the state of a call in flight, and the value-task source of an asynchronous one.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Event never allocates its wait handle here (Wait with a timeout, no WaitHandle); slots live as long as their client.")]
internal sealed class RpcCallSlot : IValueTaskSource<RpcResult>
{
    internal const int Free = 0;
    internal const int Pending = 1;
    internal const int Completed = 2;
    internal const int Failed = 3;
    internal const int Abandoned = 4;

    private static readonly Action<object?, CancellationToken> s_onCancel = static (state, token) => ((RpcCallSlot)state!).Owner.Cancel((RpcCallSlot)state!, token);

    internal readonly RpcClient Owner;
    internal readonly uint Index;
    internal readonly ManualResetEventSlim Event = new(initialState: false, spinCount: 1);

    internal long Ticket;
    internal int State;
    internal int Holds;
    internal uint Generation;
    internal long Result;
    internal int OutLength;
    internal long DataOffset;
    internal int BlockLength;
    internal int OutCapacity;
    internal int SyncWaiting;
    internal bool IsAsync;
    /// <summary>The caller routed its own answer and still holds the server's hold too (RpcClient.Finish); its thread only.</summary>
    internal bool ServerHoldKept;
    internal Memory<byte> AsyncOutput;
    internal ManualResetValueTaskSourceCore<RpcResult> Core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;

    internal RpcCallSlot(RpcClient owner, uint index)
    {
        Owner = owner;
        Index = index;
    }

    /// <summary>Starts a new generation: the id of the call about to be submitted.</summary>
    internal ulong Arm(bool isAsync, Memory<byte> asyncOutput)
    {
        Generation = Generation == uint.MaxValue ? 1 : Generation + 1; // 0 never: an all-zero id is always invalid
        IsAsync = isAsync;
        AsyncOutput = asyncOutput;
        Result = 0;
        OutLength = 0;
        Holds = 2;
        ServerHoldKept = false;
        State = Pending;
        if (isAsync)
        {
            Core.Reset();
        }

        // Release: the fields above are set before any reader can take the server side.
        Volatile.Write(ref Ticket, ((long)Generation << 32) | 1);
        return RpcLayout.MakeId(Index, Generation);
    }

    internal void Register(CancellationToken token)
    {
        if (token.CanBeCanceled)
        {
            _registration = token.UnsafeRegister(s_onCancel, this);
        }
    }

    /// <inheritdoc />
    public RpcResult GetResult(short token)
    {
        try
        {
            RpcResult result = Core.GetResult(token);
            return Owner.CopyOutput(this, result, AsyncOutput.Span);
        }
        finally
        {
            _registration.Dispose();
            _registration = default;
            AsyncOutput = default;
            Owner.ReleaseCaller(this);
        }
    }

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => Core.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => Core.OnCompleted(continuation, state, token, flags);
}
