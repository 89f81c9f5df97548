using System.Diagnostics;

namespace UintrIpc.Demo;

/// <summary>
/// The stream's timeout, measured from the last progress rather than from the start: a slow
/// machine (the emulated uintr machine is 10-100x slower than hardware) takes long for the
/// whole stream, but a dead or stuck peer still ends it after <see cref="Program.Timeout"/>
/// without a single message moving.
/// </summary>
internal struct Progress()
{
    private long _last = Stopwatch.GetTimestamp();

    /// <summary>Records <paramref name="moved"/> messages; true once nothing has moved for <see cref="Program.Timeout"/>.</summary>
    public bool HasStalled(int moved)
    {
        if (moved > 0)
        {
            _last = Stopwatch.GetTimestamp();
            return false;
        }

        return Stopwatch.GetElapsedTime(_last) > Program.Timeout;
    }
}
