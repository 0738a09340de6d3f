using System.Text.Json;
using System.Text.Json.Nodes;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Tests.Rest;

public sealed class DiscordJsonTests
{
    [Fact]
    public void Snowflakes_RoundTripAsStrings()
    {
        var role = new DiscordRole(18446744073709551615, "Verified", 3, DiscordPermissions.ManageRoles | DiscordPermissions.Administrator, Managed: false);

        var json = JsonSerializer.Serialize(role, DiscordJson.Options);
        var back = JsonSerializer.Deserialize<DiscordRole>(json, DiscordJson.Options);

        Assert.Equal("""{"id":"18446744073709551615","name":"Verified","position":3,"permissions":"268435464","managed":false}""", json);
        Assert.Equal(role, back);
    }

    [Fact]
    public void Snowflakes_AreAlsoReadFromNumbers_AndNullableIdsStayNull()
    {
        var channel = JsonSerializer.Deserialize<DiscordChannel>("""{"id":42,"type":0,"parent_id":null}""", DiscordJson.Options)!;

        Assert.Equal(42UL, channel.Id);
        Assert.Null(channel.ParentId);
        Assert.Null(channel.GuildId);
    }

    [Fact]
    public void InvalidSnowflake_IsAJsonError() =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<DiscordChannel>("""{"id":"abc","type":0}""", DiscordJson.Options));

    [Fact]
    public void Permissions_KeepBitsTheEnumDoesNotName()
    {
        var guild = JsonSerializer.Deserialize<PartialGuild>("""{"id":"1","name":"g","permissions":"2251799813685247"}""", DiscordJson.Options)!;

        Assert.Equal(2251799813685247UL, (ulong)guild.Permissions!.Value);
        Assert.True(guild.Permissions.Value.HasFlag(DiscordPermissions.ManageRoles));
    }

    [Fact]
    public void Permissions_AbsentFromAPartialGuild_AreUnknown_NotNone()
    {
        var guild = JsonSerializer.Deserialize<PartialGuild>("""{"id":"1","name":"g"}""", DiscordJson.Options)!;

        Assert.Null(guild.Permissions);
    }

    [Fact]
    public void ApplicationCommand_SerializesAsDiscordDocumentsIt()
    {
        var command = new ApplicationCommand(
            "walver",
            "Manage wallet verifications",
            Options:
            [
                new ApplicationCommandOption(ApplicationCommandOptionType.SubCommand, "create", "Create a verification", Options:
                [
                    new ApplicationCommandOption(ApplicationCommandOptionType.Role, "role", "Role to grant", Required: true),
                    new ApplicationCommandOption(ApplicationCommandOptionType.String, "chain", "Chain", Required: true,
                        Choices: [new ApplicationCommandOptionChoice("Solana", "solana")]),
                    new ApplicationCommandOption(ApplicationCommandOptionType.Number, "min-amount", "Minimum", MinValue: 0, MaxValue: 1e9),
                    new ApplicationCommandOption(ApplicationCommandOptionType.Channel, "channel", "Where", ChannelTypes: [ChannelType.GuildText]),
                    new ApplicationCommandOption(ApplicationCommandOptionType.String, "id", "Verification", Autocomplete: true),
                ]),
            ],
            DefaultMemberPermissions: DiscordPermissions.ManageRoles,
            Contexts: [InteractionContextType.Guild],
            IntegrationTypes: [ApplicationIntegrationType.GuildInstall]);

        var json = JsonNode.Parse(JsonSerializer.Serialize(command, DiscordJson.Options))!;

        Assert.Equal("268435456", json["default_member_permissions"]!.GetValue<string>());
        Assert.Equal(1, json["type"]!.GetValue<int>());
        Assert.Equal(0, json["contexts"]![0]!.GetValue<int>());
        Assert.Equal(0, json["integration_types"]![0]!.GetValue<int>());
        Assert.Null(json["id"]);
        Assert.Null(json["dm_permission"]);
        var create = json["options"]![0]!;
        Assert.Equal(1, create["type"]!.GetValue<int>());
        Assert.True(create["options"]![0]!["required"]!.GetValue<bool>());
        Assert.Equal("solana", create["options"]![1]!["choices"]![0]!["value"]!.GetValue<string>());
        Assert.Equal(1e9, create["options"]![2]!["max_value"]!.GetValue<double>());
        Assert.Equal(0, create["options"]![3]!["channel_types"]![0]!.GetValue<int>());
        Assert.True(create["options"]![4]!["autocomplete"]!.GetValue<bool>());
    }

    [Fact]
    public void ChoiceValues_KeepTheirJsonType()
    {
        var response = InteractionResponse.Autocomplete([new("Ten", 10L), new("Half", 0.5), new("Sol", "sol")]);

        var json = JsonSerializer.Serialize(response, DiscordJson.Options);
        var back = JsonSerializer.Deserialize<InteractionResponse>(json, DiscordJson.Options)!;

        Assert.Equal("""{"type":8,"data":{"choices":[{"name":"Ten","value":10},{"name":"Half","value":0.5},{"name":"Sol","value":"sol"}]}}""", json);
        Assert.Equal([10L, 0.5, "sol"], back.Data!.Choices!.Select(c => c.Value));
    }

    [Fact]
    public void DeferEphemeral_SetsFlag64()
    {
        Assert.Equal("""{"type":5,"data":{"flags":64}}""", JsonSerializer.Serialize(InteractionResponse.Defer(ephemeral: true), DiscordJson.Options));
        Assert.Equal("""{"type":5}""", JsonSerializer.Serialize(InteractionResponse.Defer(ephemeral: false), DiscordJson.Options));
    }
}
