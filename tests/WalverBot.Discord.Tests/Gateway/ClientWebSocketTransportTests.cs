using System.Net;
using System.Net.WebSockets;
using System.Text;
using WalverBot.Discord.Gateway;
using WalverBot.Testing.Net;

namespace WalverBot.Discord.Tests.Gateway;

/// <summary>The real transport against a local WebSocket endpoint (HttpListener on 127.0.0.1).</summary>
public sealed class ClientWebSocketTransportTests : IAsyncLifetime
{
    private HttpListener _listener = null!;
    private Uri _uri = null!;

    public async Task InitializeAsync() =>
        (_listener, _uri) = await LoopbackPort.StartOnUnusedAsync(port => Task.FromResult(Listen(port)), LoopbackPort.IsAddressInUse);

    [Fact]
    public async Task Receives_a_message_sent_in_many_frames_whole_and_surfaces_the_close_status()
    {
        var big = "{\"op\":0,\"d\":\"" + new string('x', 100_000) + "\"}";
        var server = ServeAsync(async (socket, _) =>
        {
            var bytes = Encoding.UTF8.GetBytes(big);
            for (var offset = 0; offset < bytes.Length; offset += 4096)
            {
                var count = Math.Min(4096, bytes.Length - offset);
                await socket.SendAsync(bytes.AsMemory(offset, count), WebSocketMessageType.Text, offset + count == bytes.Length, CancellationToken.None);
            }

            var buffer = new byte[1024];
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal("""{"op":1,"d":null}""", Encoding.UTF8.GetString(buffer, 0, received.Count));
            await socket.CloseOutputAsync((WebSocketCloseStatus)4014, "Disallowed intent(s).", CancellationToken.None);
        });

        await using var transport = new ClientWebSocketTransport();
        await transport.ConnectAsync(_uri, CancellationToken.None);

        var message = await transport.ReceiveAsync(CancellationToken.None).WaitAsync(Timeouts.Signal);
        Assert.Equal(big, message.Text);
        await transport.SendAsync("""{"op":1,"d":null}""", CancellationToken.None);

        var close = await transport.ReceiveAsync(CancellationToken.None).WaitAsync(Timeouts.Signal);
        Assert.True(close.IsClose);
        Assert.Equal(4014, close.CloseStatus);
        await transport.CloseAsync(1000, "bye", CancellationToken.None);
        await server.WaitAsync(Timeouts.Signal);
    }

    [Fact]
    public async Task A_connection_lost_without_close_frame_is_a_close_without_status()
    {
        var server = ServeAsync((socket, context) =>
        {
            socket.Abort();
            context.Response.Abort(); // drops the TCP connection
            return Task.CompletedTask;
        });

        await using var transport = new ClientWebSocketTransport();
        await transport.ConnectAsync(_uri, CancellationToken.None);
        await server.WaitAsync(Timeouts.Signal);

        var message = await transport.ReceiveAsync(CancellationToken.None).WaitAsync(Timeouts.Signal);
        Assert.True(message.IsClose);
        Assert.Null(message.CloseStatus);
        await transport.CloseAsync(4000, "reconnecting", CancellationToken.None); // must not throw on a dead socket
    }

    public Task DisposeAsync()
    {
        _listener.Close();
        return Task.CompletedTask;
    }

    private static (HttpListener Listener, Uri Uri) Listen(int port)
    {
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        try
        {
            listener.Start();
        }
        catch
        {
            listener.Close();
            throw;
        }

        return (listener, new Uri($"ws://127.0.0.1:{port}/?v=10&encoding=json"));
    }

    private async Task ServeAsync(Func<WebSocket, HttpListenerContext, Task> session)
    {
        var context = await _listener.GetContextAsync();
        var webSocket = await context.AcceptWebSocketAsync(subProtocol: null);
        await session(webSocket.WebSocket, context);
    }
}
