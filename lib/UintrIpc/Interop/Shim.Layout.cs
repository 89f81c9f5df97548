using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

internal static partial class Shim
{
    /// <summary>Returns one layout constant of interop/include/uintripc.h by id (enum uipc_layout_id), or -1.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_LayoutValue")]
    [SuppressGCTransition]
    internal static partial long LayoutValue(int id);
}
