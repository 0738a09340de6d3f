using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using WalverBot.Testing.Http;

namespace WalverBot.Testing.FakeDiscord;

/// <summary>A file sent as a <c>files[n]</c> part of a multipart message, as Discord receives it.</summary>
public sealed record FakeUpload(string Path, string FieldName, string FileName, string ContentType, string Content);

/// <summary>
/// Messages with files (https://discord.com/developers/docs/reference#uploading-files): multipart/form-data whose
/// <c>payload_json</c> part is the JSON body the route handles as usual, and whose <c>files[n]</c> parts are recorded in
/// <see cref="Uploads"/>. A files[n] part without its <c>attachments</c> entry (id n) is refused as Discord does (50035).
/// </summary>
public sealed partial class FakeDiscordServer
{
    private readonly ConcurrentQueue<FakeUpload> _uploads = new();

    /// <summary>Every file received, in order.</summary>
    public IReadOnlyList<FakeUpload> Uploads => [.. _uploads];

    private static bool IsMultipart(RecordedRequest request) =>
        request.Header("Content-Type") is { } type && type.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    private async Task<JsonNode?> ReadMultipartAsync(RecordedRequest request)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.Header("Content-Type")).Boundary).Value
            ?? throw new JsonException("multipart body without a boundary");
        var reader = new MultipartReader(boundary, new MemoryStream(Encoding.UTF8.GetBytes(request.Body)));
        JsonNode? payload = null;
        var files = new List<(int Index, FakeUpload Upload)>();
        while (await reader.ReadNextSectionAsync().ConfigureAwait(false) is { } section)
        {
            var disposition = ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            var text = await new StreamReader(section.Body, Encoding.UTF8).ReadToEndAsync().ConfigureAwait(false);
            if (name == "payload_json")
            {
                payload = JsonNode.Parse(text);
            }
            else if (name.StartsWith("files[", StringComparison.Ordinal) && name.EndsWith(']') && int.TryParse(name[6..^1], out var index))
            {
                files.Add((index, new FakeUpload(request.Path, name, HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "", section.ContentType ?? "", text)));
            }
        }

        var ids = (payload?["attachments"] as JsonArray)?.Select(a => a?["id"]?.GetValue<int>()).ToHashSet() ?? [];
        if (payload is null || files.Any(f => !ids.Contains(f.Index)))
        {
            throw new JsonException("payload_json missing, or a files[n] part without its attachments entry");
        }

        foreach (var (_, upload) in files)
        {
            _uploads.Enqueue(upload);
        }

        return payload;
    }
}
