using System.Text.Json;
using System.Text.Json.Serialization;

namespace WalverBot.Discord.Models;

/// <summary>
/// The one source-generated serializer context for Discord JSON, REST and gateway alike: snake_case names, nulls left
/// out, numbers strict (enums are Discord's integers), snowflakes and permission sets as strings. Every type the client
/// reads or writes is listed here; <see cref="DiscordJson.Options"/> resolves through this context only, so a type missing
/// from the list fails loudly instead of falling back to reflection.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    Converters = [typeof(SnowflakeJsonConverter), typeof(PermissionsJsonConverter), typeof(NullAsFalseJsonConverter)])]
// REST
[JsonSerializable(typeof(DiscordUser))]
[JsonSerializable(typeof(GatewayBotInfo))]
[JsonSerializable(typeof(GuildMember))]
[JsonSerializable(typeof(List<GuildMember>))]
[JsonSerializable(typeof(List<DiscordRole>))]
[JsonSerializable(typeof(List<PartialGuild>))]
[JsonSerializable(typeof(DiscordGuild))]
[JsonSerializable(typeof(DiscordChannel))]
[JsonSerializable(typeof(List<DiscordChannel>))]
[JsonSerializable(typeof(DiscordMessage))]
[JsonSerializable(typeof(MessageCreate))]
[JsonSerializable(typeof(MessageEdit))]
[JsonSerializable(typeof(InteractionResponse))]
[JsonSerializable(typeof(IReadOnlyList<ApplicationCommand>))]
[JsonSerializable(typeof(List<ApplicationCommand>))]
// Gateway
[JsonSerializable(typeof(GatewayPayload))]
[JsonSerializable(typeof(GatewayCommand<IdentifyData>))]
[JsonSerializable(typeof(GatewayCommand<ResumeData>))]
[JsonSerializable(typeof(GatewayCommand<long?>))]
[JsonSerializable(typeof(GatewayCommand<RequestGuildMembersData>))]
[JsonSerializable(typeof(HelloData))]
[JsonSerializable(typeof(ReadyData))]
[JsonSerializable(typeof(GuildCreateData))]
[JsonSerializable(typeof(GuildReference))]
[JsonSerializable(typeof(GuildRoleData))]
[JsonSerializable(typeof(GuildRoleDeleteData))]
[JsonSerializable(typeof(GuildMemberData))]
[JsonSerializable(typeof(GuildMemberRemoveData))]
[JsonSerializable(typeof(GuildMembersChunkData))]
[JsonSerializable(typeof(RateLimitedData))]
[JsonSerializable(typeof(InteractionCreateData))]
internal sealed partial class DiscordJsonContext : JsonSerializerContext;
