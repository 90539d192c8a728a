// libcurl's callbacks as [UnmanagedCallersOnly] function pointers. No exception may escape into C:
// each catches, records and returns libcurl's abort value.
using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HoodyCurl.Requests.Native;

namespace HoodyCurl.Requests.Engine;

internal static unsafe class Callbacks
{
    public static readonly nint Write = (nint)(delegate* unmanaged[Cdecl]<byte*, nuint, nuint, nint, nuint>)&OnWrite;
    public static readonly nint Read = (nint)(delegate* unmanaged[Cdecl]<byte*, nuint, nuint, nint, nuint>)&OnRead;
    public static readonly nint Header = (nint)(delegate* unmanaged[Cdecl]<byte*, nuint, nuint, nint, nuint>)&OnHeader;
    public static readonly nint OpenSocket = (nint)(delegate* unmanaged[Cdecl]<nint, int, byte*, int>)&OnOpenSocket;
    public static readonly nint Prereq = (nint)(delegate* unmanaged[Cdecl]<nint, byte*, byte*, int, int, int>)&OnPrereq;

    /// <summary>int prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip, int primary_port, int local_port).</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnPrereq(nint userData, byte* primaryIp, byte* localIp, int primaryPort, int localPort)
    {
        try
        {
            return Transfer.FromUserData(userData).OnPrereq();
        }
        catch (Exception)
        {
            return CurlConst.PREREQFUNC_ABORT;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nuint OnWrite(byte* data, nuint size, nuint count, nint userData)
    {
        try
        {
            var length = checked((int)(size * count));
            return Transfer.FromUserData(userData).OnBody(new ReadOnlySpan<byte>(data, length));
        }
        catch (Exception)
        {
            return 0; // abort: CURLE_WRITE_ERROR
        }
    }

    /// <summary>size_t read(char *buffer, size_t size, size_t nitems, void *userdata): the streamed upload.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nuint OnRead(byte* buffer, nuint size, nuint count, nint userData)
    {
        try
        {
            var length = checked((int)(size * count));
            return Transfer.FromUserData(userData).OnRead(new Span<byte>(buffer, length));
        }
        catch (Exception)
        {
            return CurlConst.READFUNC_ABORT;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nuint OnHeader(byte* data, nuint size, nuint count, nint userData)
    {
        try
        {
            var length = checked((int)(size * count));
            return Transfer.FromUserData(userData).OnHeaderLine(new ReadOnlySpan<byte>(data, length)) ? (nuint)length : 0;
        }
        catch (Exception)
        {
            return 0;
        }
    }

    /// <summary>
    /// curl_socket_t opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address).
    /// struct curl_sockaddr { int family; int socktype; int protocol; unsigned int addrlen; struct sockaddr addr; }
    /// (addr at offset 16). Returns CURL_SOCKET_BAD to refuse the connection.
    /// </summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnOpenSocket(nint userData, int purpose, byte* address)
    {
        try
        {
            var family = *(int*)address;
            var socketType = *(int*)(address + 4);
            var protocol = *(int*)(address + 8);
            var sockaddr = address + 16;
            var port = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(sockaddr + 2, 2));
            IPAddress ip;
            if (family == CurlConst.AF_INET) ip = new IPAddress(new ReadOnlySpan<byte>(sockaddr + 4, 4));
            else if (family == CurlConst.AF_INET6) ip = new IPAddress(new ReadOnlySpan<byte>(sockaddr + 8, 16));
            else return CurlConst.SOCKET_BAD; // unix sockets and anything else: never
            return Transfer.FromUserData(userData).OnOpenSocket(family, socketType, protocol, ip, port);
        }
        catch (Exception)
        {
            return CurlConst.SOCKET_BAD;
        }
    }
}

/// <summary>
/// The process-wide curl_share: DNS cache and TLS sessions shared by every transfer thread, guarded
/// by the lock callbacks libcurl requires when a share is used from several threads.
/// </summary>
internal static unsafe class CurlShare
{
    private static readonly object[] Locks = [new(), new(), new(), new(), new(), new(), new(), new()];
    private static nint _share;
    private static readonly Lock InitGate = new();

    public static nint Handle
    {
        get
        {
            lock (InitGate)
            {
                if (_share != 0) return _share;
                var share = LibCurl.curl_share_init();
                LibCurl.ShareSetPtr(share, CurlShOpt.LOCKFUNC, (nint)(delegate* unmanaged[Cdecl]<nint, int, int, nint, void>)&OnLock);
                LibCurl.ShareSetPtr(share, CurlShOpt.UNLOCKFUNC, (nint)(delegate* unmanaged[Cdecl]<nint, int, nint, void>)&OnUnlock);
                LibCurl.ShareSetLong(share, CurlShOpt.SHARE, CurlShOpt.LOCK_DATA_DNS);
                LibCurl.ShareSetLong(share, CurlShOpt.SHARE, CurlShOpt.LOCK_DATA_SSL_SESSION);
                _share = share;
                return share;
            }
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLock(nint handle, int data, int access, nint userData) =>
        Monitor.Enter(Locks[(uint)data % (uint)Locks.Length]);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnUnlock(nint handle, int data, nint userData) =>
        Monitor.Exit(Locks[(uint)data % (uint)Locks.Length]);
}
