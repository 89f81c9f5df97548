using UintrIpc.Channels;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// The batched writes of the tests and of the child programs: a claimed batch filled with
/// first, first + 1, ... and published. Linked into UintrIpc.Tests, so both sides write alike.
/// </summary>
internal static class SequenceBatches
{
    /// <summary>Fills <paramref name="batch"/> (claimed or not) from <paramref name="first"/> on and publishes it; returns how many it held.</summary>
    public static int FillAndPublish(bool claimed, ref SlotBatch<long> batch, long first)
    {
        if (!claimed)
        {
            return 0;
        }

        try
        {
            for (int i = 0; i < batch.Count; i++)
            {
                batch[i] = first + i;
            }

            batch.Publish();
            return batch.Count;
        }
        finally
        {
            batch.Dispose(); // aborts only if an exception came before Publish
        }
    }
}
