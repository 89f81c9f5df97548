using UintrIpc.Interop;

namespace UintrIpc.Tests.Bootstrap;

public sealed unsafe class SocketInteropLayoutTests
{
    /// <summary>Sizes and offsets of the glibc x86-64/arm64 structs the bootstrap passes to the kernel.</summary>
    [Fact]
    public void Socket_structs_match_the_LP64_C_layout()
    {
        Assert.Equal(56, sizeof(Sys.MsgHdr));
        Sys.MsgHdr m;
        Assert.Equal(16, (byte*)&m.Iov - (byte*)&m);
        Assert.Equal(32, (byte*)&m.Control - (byte*)&m);
        Assert.Equal(48, (byte*)&m.Flags - (byte*)&m);
        Assert.Equal(16, sizeof(Sys.CmsgHdr));
        Assert.Equal(16, sizeof(Sys.IoVec));
        Assert.Equal(12, sizeof(Sys.UCred));
        Assert.Equal(110, sizeof(Sys.SockAddrUn));
        Assert.Equal(8, sizeof(Sys.PollFd));
        Assert.Equal(16, Sys.CmsgDataOffset);
        Assert.Equal(24, Sys.CmsgSpace(4));   // CMSG_SPACE(sizeof(int)) in C
        Assert.Equal(20, Sys.CmsgLen(4));     // CMSG_LEN(sizeof(int)) in C
    }
}
