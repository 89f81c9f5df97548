namespace UintrIpc.Channels;

/// <summary>
/// Receives the elements that <see cref="Channels.IpcChannelReader{T}.Drain{THandler}(ref THandler, int)"/>
/// hands out, without copying them out of shared memory first.
/// </summary>
/// <typeparam name="T">The element type of the ring.</typeparam>
/// <remarks>
/// Implement it on a struct (or a ref struct) and pass it by reference: <c>Drain</c> is generic
/// over the handler type, so the JIT specialises it and can inline <see cref="Handle"/>; there is
/// no interface call and no delegate on the hot path.
/// </remarks>
public interface ISlotHandler<T> where T : unmanaged
{
    /// <summary>
    /// Handles one element. <paramref name="item"/> refers to the slot in shared memory and is
    /// valid only until this method returns: the slot is given back to the producers afterwards.
    /// Copy what you need to keep. An exception thrown here stops the drain; the element it was
    /// thrown for counts as consumed.
    /// </summary>
    void Handle(in T item);
}
