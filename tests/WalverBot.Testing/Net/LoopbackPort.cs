using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace WalverBot.Testing.Net;

/// <summary>
/// Loopback ports for servers that must be told their port before they bind it (a fixed <c>Operations:Urls</c>, anvil,
/// PostgreSQL, an <see cref="HttpListener"/>).
/// </summary>
/// <remarks>
/// A probed port is free only when probed: until the server binds it, any process may take it. Two suites run at
/// once on a loaded machine lost that race (Kestrel: "address already in use"), so a start on a probed port is
/// retried on another one.
/// </remarks>
public static class LoopbackPort
{
    /// <summary>A loopback port nothing listened on when probed.</summary>
    public static int Unused()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>
    /// Starts a server on a probed port, and on another one while <paramref name="taken"/> says the port was taken
    /// meanwhile (three tries, then the last error stands).
    /// </summary>
    public static async Task<T> StartOnUnusedAsync<T>(Func<int, Task<T>> start, Func<Exception, bool> taken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await start(Unused());
            }
            catch (Exception error) when (attempt < 3 && taken(error))
            {
            }
        }
    }

    /// <summary>Whether <paramref name="error"/>, or an error inside it, is a bind refused because the address is in use.</summary>
    public static bool IsAddressInUse(Exception error)
    {
        for (var inner = error; inner is not null; inner = inner.InnerException)
        {
            // HttpListener on Linux carries the socket's error number (EADDRINUSE, 98) rather than the SocketError.
            if (inner is AddressInUseException
                || inner is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
                || inner is HttpListenerException { ErrorCode: 98 or (int)SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }
}
