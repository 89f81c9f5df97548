using System.Buffers.Binary;
using System.Runtime.InteropServices;
using UintrIpc.Interop;

namespace UintrIpc.Tests.Bootstrap;

/// <summary>Sends raw datagrams (bypassing BootstrapConnection's checks) to test what a receiver does with bad input.</summary>
internal static unsafe class ForgedMessages
{
    /// <summary>A header like the real one, with every field chosen by the test.</summary>
    public static byte[] Datagram(int payloadLength, uint magic = 0x53424955, ushort version = 1, ushort type = 3, uint? announcedLength = null, uint announcedFds = 0)
    {
        var bytes = new byte[16 + payloadLength];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, magic);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), version);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), type);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), announcedLength ?? (uint)payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), announcedFds);
        for (int i = 16; i < bytes.Length; i++)
        {
            bytes[i] = (byte)i;
        }

        return bytes;
    }

    /// <summary>sendmsg of <paramref name="datagram"/> with any number of descriptor numbers in one SCM_RIGHTS message.</summary>
    public static void Send(SafeFdHandle socket, byte[] datagram, ReadOnlySpan<int> fds)
    {
        int controlBytes = fds.Length == 0 ? 0 : Sys.CmsgSpace(fds.Length * sizeof(int));
        byte[] control = new byte[controlBytes + 8];
        fixed (byte* c = control)
        fixed (byte* d = datagram)
        {
            byte* aligned = (byte*)(((nint)c + 7) & ~(nint)7);
            if (fds.Length > 0)
            {
                var header = (Sys.CmsgHdr*)aligned;
                header->Length = (nuint)Sys.CmsgLen(fds.Length * sizeof(int));
                header->Level = Sys.SOL_SOCKET;
                header->Type = Sys.SCM_RIGHTS;
                fds.CopyTo(new Span<int>(aligned + Sys.CmsgDataOffset, fds.Length));
            }

            var iov = new Sys.IoVec { Base = d, Length = (nuint)datagram.Length };
            var message = new Sys.MsgHdr { Iov = &iov, IovLength = 1, Control = fds.Length == 0 ? null : aligned, ControlLength = (nuint)controlBytes };
            nint sent = Sys.SendMsg(socket, &message, Sys.MSG_NOSIGNAL);
            Assert.True(sent == datagram.Length, $"sendmsg returned {sent}, errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
