using System.Runtime.InteropServices;

namespace UintrIpc.Demo;

/// <summary>What the two demo processes exchange: 24 bytes, the same layout on both sides.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DemoMessage
{
    public DemoCommand Command;
    public long Sequence;
    public long Value;

    public DemoMessage(DemoCommand command, long sequence = 0, long value = 0)
    {
        Command = command;
        Sequence = sequence;
        Value = value;
    }
}

/// <summary>What a message asks the child to do (it answers every one on the pong channel).</summary>
internal enum DemoCommand : long
{
    /// <summary>Echo the message back.</summary>
    Ping = 0,
    /// <summary>From now on poll the ping channel without sleeping.</summary>
    StayAwake = 1,
    /// <summary>From now on block in Read (park in the doorbell) when the channel is empty.</summary>
    Sleep = 2,
    /// <summary>Receive Value messages as fast as possible, then answer with the count.</summary>
    Stream = 3,
    /// <summary>Answer with the child's CPU time in microseconds.</summary>
    ReportCpu = 4,
    /// <summary>Answer, then exit.</summary>
    Stop = 5,
}
