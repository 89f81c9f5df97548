namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>Runs generic code with the slot element type of a size (8, 64, 256, 1024 or 4096 bytes).</summary>
internal interface IElementAction<out TResult>
{
    TResult Invoke<T>() where T : unmanaged;
}

internal static class ElementSize
{
    public static TResult With<TAction, TResult>(int size, TAction action) where TAction : IElementAction<TResult> => size switch
    {
        8 => action.Invoke<Msg8>(),
        64 => action.Invoke<Msg64>(),
        256 => action.Invoke<Msg256>(),
        1024 => action.Invoke<Msg1024>(),
        4096 => action.Invoke<Msg4096>(),
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "Slot-ring elements are 8, 64, 256, 1024 or 4096 bytes."),
    };
}
