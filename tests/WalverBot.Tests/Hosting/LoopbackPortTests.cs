using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using WalverBot.Testing.Net;

namespace WalverBot.Tests.Hosting;

/// <summary>
/// A server told a probed port loses it when another process binds it first: the start is tried again on another
/// port, and only a bind refused that way counts as taken.
/// </summary>
public sealed class LoopbackPortTests
{
    [Fact]
    public async Task A_port_taken_between_the_probe_and_the_bind_is_traded_for_another()
    {
        var tried = new List<int>();
        using var thief = new ThiefListener();

        using var listener = await LoopbackPort.StartOnUnusedAsync(
            port =>
            {
                tried.Add(port);
                if (tried.Count == 1)
                {
                    thief.Take(port);
                }

                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return Task.FromResult(new Started(listener));
            },
            LoopbackPort.IsAddressInUse);

        Assert.Equal(2, tried.Count);
        Assert.NotEqual(tried[0], tried[1]);
        Assert.Equal(tried[1], ((IPEndPoint)listener.Listener.LocalEndpoint).Port);
    }

    [Fact]
    public async Task After_three_taken_ports_the_last_refusal_stands()
    {
        var tried = 0;
        using var thief = new ThiefListener();

        var error = await Assert.ThrowsAsync<SocketException>(() => LoopbackPort.StartOnUnusedAsync<Started>(
            port =>
            {
                tried++;
                thief.Take(port);
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return Task.FromResult(new Started(listener));
            },
            LoopbackPort.IsAddressInUse));

        Assert.Equal(3, tried);
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
    }

    [Fact]
    public async Task Another_failure_is_not_tried_again()
    {
        var tried = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => LoopbackPort.StartOnUnusedAsync<Started>(
            _ =>
            {
                tried++;
                throw new InvalidOperationException("not a port problem");
            },
            LoopbackPort.IsAddressInUse));

        Assert.Equal(1, tried);
    }

    [Fact]
    public async Task Kestrel_and_HttpListener_refusals_of_a_taken_port_are_recognised()
    {
        using var thief = new ThiefListener();
        var port = LoopbackPort.Unused();
        thief.Take(port);

        var app = WebApplication.CreateSlimBuilder();
        app.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var kestrel = app.Build();
        var kestrelError = await Record.ExceptionAsync(() => kestrel.StartAsync());

        using var httpListener = new HttpListener();
        httpListener.Prefixes.Add($"http://127.0.0.1:{port}/");
        var httpListenerError = Record.Exception(httpListener.Start);

        Assert.True(LoopbackPort.IsAddressInUse(kestrelError!), kestrelError?.ToString());
        Assert.True(LoopbackPort.IsAddressInUse(httpListenerError!), httpListenerError?.ToString());
        Assert.False(LoopbackPort.IsAddressInUse(new IOException("disk full")));
    }

    private sealed record Started(TcpListener Listener) : IDisposable
    {
        public void Dispose() => Listener.Stop();
    }

    /// <summary>Another process's listener, binding the ports it is told to take.</summary>
    private sealed class ThiefListener : IDisposable
    {
        private readonly List<TcpListener> _taken = [];

        public void Take(int port)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            _taken.Add(listener);
        }

        public void Dispose() => _taken.ForEach(listener => listener.Stop());
    }
}
