using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using WalverBot.Tests.Hosting;
using WalverBot.Testing.FakeDiscord;
using WalverBot.Testing.FakeWalver;

namespace WalverBot.Tests.Commands;

/// <summary>
/// <see cref="BotScenario"/> plus a fake Walver API, an admin (Manage Roles through a "Moderator" role), a text
/// channel, and helpers to send slash commands through the fake gateway and read the answers.
/// </summary>
public sealed class CommandScenario : IAsyncDisposable
{
    public const string GuildId = BotScenario.GuildId;
    public const string AdminId = "1400000000000000009";
    public const string ModeratorRoleId = "1300000000000000020";
    public const string ChannelId = "1500000000000000001";

    private CommandScenario(BotScenario bot, FakeWalverApi walver)
    {
        Bot = bot;
        Walver = walver;
    }

    public BotScenario Bot { get; }
    public FakeWalverApi Walver { get; }
    public FakeDiscordServer Discord => Bot.Discord;

    /// <param name="settings">Extra settings; a null value removes a default (e.g. <c>Walver:ApiKey</c>).</param>
    /// <param name="seed">Changes to the fake Discord before the bot starts (so the gateway's GUILD_CREATE carries them).</param>
    /// <param name="time">The clock of the bot and the fakes (see <see cref="BotScenario.Time"/>); real time when null.</param>
    public static async Task<CommandScenario> StartAsync(IDictionary<string, string?>? settings = null, Action<FakeDiscordServer>? seed = null, FakeTimeProvider? time = null)
    {
        var walver = await FakeWalverApi.StartAsync();
        var all = new Dictionary<string, string?>
        {
            ["Walver:BaseUrl"] = walver.BaseUrl,
            ["Walver:ApiKey"] = walver.ApiKey,
            ["Walver:AttemptTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        foreach (var key in all.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            all.Remove(key);
        }

        var bot = await BotScenario.StartAsync(all, startBot: false, time: time);
        bot.Discord.AddRole(GuildId, new FakeRole(ModeratorRoleId, "Moderator", 2, FakeDiscordPermissions.Of(FakeDiscordPermissions.ManageRoles)));
        bot.Discord.AddMember(GuildId, new FakeMember(AdminId, "admin") { Roles = [ModeratorRoleId] });
        bot.Discord.AddChannel(new FakeChannel(ChannelId, GuildId, "verify-here"));
        seed?.Invoke(bot.Discord);
        await bot.StartBotAsync();
        await bot.Gateway.WaitForReadyAsync();
        return new CommandScenario(bot, walver);
    }

    /// <summary>Sends a slash command as <paramref name="userId"/> through the gateway.</summary>
    public async Task<FakeInteraction> RunAsync(string userId, JsonObject data)
    {
        var interaction = Discord.CreateCommandInteraction(GuildId, ChannelId, userId, data);
        await Bot.Gateway.DispatchAsync("INTERACTION_CREATE", interaction.Payload);
        return interaction;
    }

    /// <summary>Sends a command and waits for its final answer (a direct message, or the last edit of a deferred one).</summary>
    public async Task<Answer> AskAsync(string userId, JsonObject data, Func<string, bool>? until = null)
    {
        var interaction = await RunAsync(userId, data);
        return await AnswerAsync(interaction, until);
    }

    public async Task<Answer> AnswerAsync(FakeInteraction interaction, Func<string, bool>? until = null)
    {
        Answer? answer = null;
        try
        {
            await Discord.WaitUntilAsync(d =>
            {
                answer = Read(d, interaction);
                return answer is not null && (until is null || until(answer.Content));
            }, TimeSpan.FromSeconds(20), $"an answer to interaction {interaction.Id}");
        }
        catch (TimeoutException ex)
        {
            // Say what the bot did answer (a 10062 past Discord's 3 s, an answer that is not the awaited one).
            var calls = Discord.Requests.Where(r => r.Path.Contains(interaction.Id, StringComparison.Ordinal) || r.Path.Contains(interaction.Token, StringComparison.Ordinal))
                .Select(r => r.ToString().Replace(interaction.Token, "<token>", StringComparison.Ordinal));
            throw new TimeoutException($"{ex.Message} Requests for it: [{string.Join("; ", calls)}]; last answer: {answer?.Content ?? "(none)"}", ex);
        }

        return answer!;
    }

    private static Answer? Read(FakeDiscordServer discord, FakeInteraction interaction)
    {
        var callback = discord.CallbackFor(interaction.Id);
        if (callback is null)
        {
            return null;
        }

        if (callback.Type == 4)
        {
            return new Answer(callback, (JsonObject)callback.Data!, callback.Data!["content"]?.GetValue<string>() ?? "");
        }

        var edit = discord.EditsOfOriginal(interaction.Id).LastOrDefault();
        return edit is null ? null : new Answer(callback, edit.Body, edit.Body["content"]?.GetValue<string>() ?? "");
    }

    public async ValueTask DisposeAsync()
    {
        await Bot.DisposeAsync();
        await Walver.DisposeAsync();
    }

    // ---- Interaction data ------------------------------------------------------------------------

    public static JsonObject Slash(string subcommand, params (string Name, int Type, JsonNode Value)[] options) => new()
    {
        ["name"] = "walver",
        ["type"] = 1,
        ["options"] = new JsonArray(new JsonObject
        {
            ["name"] = subcommand,
            ["type"] = 1,
            ["options"] = new JsonArray([.. options.Select(o => (JsonNode)new JsonObject { ["name"] = o.Name, ["type"] = o.Type, ["value"] = o.Value })]),
        }),
    };

    public static JsonObject Verify() => new() { ["name"] = "verify", ["type"] = 1 };

    public static (string, int, JsonNode) Text(string name, string value) => (name, 3, JsonValue.Create(value));
    public static (string, int, JsonNode) Integer(string name, long value) => (name, 4, JsonValue.Create(value));
    public static (string, int, JsonNode) Flag(string name, bool value) => (name, 5, JsonValue.Create(value));
    public static (string, int, JsonNode) User(string name, string id) => (name, 6, JsonValue.Create(id));
    public static (string, int, JsonNode) Channel(string name, string id) => (name, 7, JsonValue.Create(id));
    public static (string, int, JsonNode) Role(string name, string id) => (name, 8, JsonValue.Create(id));
    public static (string, int, JsonNode) Number(string name, double value) => (name, 10, JsonValue.Create(value));

    public static JsonObject Create(string roleId = BotScenario.HolderRoleId, string chain = "ethereum", params (string, int, JsonNode)[] more) =>
        Slash("create", [Role("role", roleId), Text("chain", chain), .. more]);
}

/// <summary>What the caller saw: the callback (type, time) and the message body of the final answer.</summary>
public sealed record Answer(FakeInteractionCallback Callback, JsonObject Body, string Content)
{
    /// <summary>64 = EPHEMERAL: only the caller sees it (for a deferral, the flag is on the callback).</summary>
    public bool IsEphemeral => Callback.Type == 4
        ? (Body["flags"]?.GetValue<int>() & 64) == 64
        : (Callback.Data?["flags"]?.GetValue<int>() & 64) == 64;

    public IEnumerable<JsonObject> Buttons =>
        (Body["components"] as JsonArray ?? []).OfType<JsonObject>()
            .SelectMany(row => (row["components"] as JsonArray ?? []).OfType<JsonObject>());
}
