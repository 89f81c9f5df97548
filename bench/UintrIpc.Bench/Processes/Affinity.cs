using Tmds.Linux;

namespace UintrIpc.Bench.Processes;

/// <summary>CPU pinning for --pin (sched_setaffinity on the calling thread).</summary>
internal static unsafe class Affinity
{
    public static void PinCurrentThread(int cpu)
    {
        cpu_set_t set = default;
        byte* bits = (byte*)&set;
        bits[cpu / 8] |= (byte)(1 << (cpu % 8));
        if (LibC.sched_setaffinity(0, (size_t)sizeof(cpu_set_t), &set) != 0)
        {
            throw new UintrIpcException($"sched_setaffinity(CPU {cpu})", LibC.errno);
        }
    }
}
