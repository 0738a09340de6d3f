using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using WalverBot.Discord.Models;
using WalverBot.Discord.Tests.Gateway;

namespace WalverBot.Discord.Tests;

/// <summary>The source-generated context is what reads and writes Discord JSON, with no reflection behind it.</summary>
public class JsonContextTests
{
    private static IEnumerable<Type> ContextTypes() =>
        typeof(DiscordJsonContext).GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(JsonSerializableAttribute))
            .Select(a => (Type)a.ConstructorArguments[0].Value!);

    [Fact]
    public void The_shared_options_resolve_through_the_context_only()
    {
        Assert.Same(DiscordJsonContext.Default, DiscordJson.Options.TypeInfoResolver);
        Assert.True(DiscordJson.Options.IsReadOnly);

        // A type the library does not model is refused: no silent fallback to reflection.
        Assert.Throws<NotSupportedException>(() => JsonSerializer.Serialize(new NotAModel(1), DiscordJson.Options));
    }

    [Fact]
    public void Every_listed_type_has_generated_metadata_with_its_converters()
    {
        var types = ContextTypes().ToList();
        Assert.True(types.Count >= 30, $"expected the context's JsonSerializable list, found {types.Count}");
        foreach (var type in types)
        {
            var info = DiscordJsonContext.Default.GetTypeInfo(type);
            Assert.NotNull(info);
            Assert.Same(DiscordJsonContext.Default, info.OriginatingResolver);
        }

        // Snowflakes as strings and snake_case come from the context's options, not from call sites.
        Assert.Equal("""{"id":"18446744073709551615","username":"u","discriminator":"0","bot":false}""",
            JsonSerializer.Serialize(new DiscordUser(ulong.MaxValue, "u"), DiscordJsonContext.Default.DiscordUser));
    }

    public static TheoryData<string> Fixtures => [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Gateway", "Samples"), "*.json")
        .Select(Path.GetFileNameWithoutExtension)
        .Where(name => name is not "HELLO")
        .Select(name => name!)];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_gateway_fixture_round_trips_through_its_generated_type_info(string eventName)
    {
        var d = Samples.Data(eventName);
        var info = eventName switch
        {
            "READY" => (JsonTypeInfo)DiscordJsonContext.Default.ReadyData,
            "GUILD_CREATE" => DiscordJsonContext.Default.GuildCreateData,
            "GUILD_DELETE" => DiscordJsonContext.Default.GuildReference,
            "GUILD_ROLE_CREATE" or "GUILD_ROLE_UPDATE" => DiscordJsonContext.Default.GuildRoleData,
            "GUILD_ROLE_DELETE" => DiscordJsonContext.Default.GuildRoleDeleteData,
            "GUILD_MEMBER_ADD" or "GUILD_MEMBER_UPDATE" => DiscordJsonContext.Default.GuildMemberData,
            "GUILD_MEMBER_REMOVE" => DiscordJsonContext.Default.GuildMemberRemoveData,
            "GUILD_MEMBERS_CHUNK" => DiscordJsonContext.Default.GuildMembersChunkData,
            "RATE_LIMITED" => DiscordJsonContext.Default.RateLimitedData,
            "INTERACTION_CREATE" => DiscordJsonContext.Default.InteractionCreateData,
            _ => throw new InvalidOperationException($"fixture {eventName} has no payload type: add it here and to DiscordJsonContext"),
        };

        var once = JsonSerializer.Serialize(d.Deserialize(info), info);
        var twice = JsonSerializer.Serialize(JsonSerializer.Deserialize(once, info), info);

        Assert.Equal(once, twice);
    }

    private sealed record NotAModel(int Value);
}
