using System.Text.Json;
using System.Text.Json.Serialization;

namespace WalverBot.Tests.Security;

/// <summary>One case of Vectors/*.json, written by tools/test-vectors/generate.mjs.</summary>
public sealed record SignatureVector(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("chain")] string Chain,
    [property: JsonPropertyName("wallet_address")] string WalletAddress,
    [property: JsonPropertyName("verification_id")] string VerificationId,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("signature")] string Signature,
    [property: JsonPropertyName("encoding")] string Encoding,
    [property: JsonPropertyName("expect")] SignatureVectorExpectation Expect,
    [property: JsonPropertyName("note")] string? Note);

public sealed record SignatureVectorExpectation(
    [property: JsonPropertyName("signature")] string Signature,
    [property: JsonPropertyName("binding")] string Binding);

public sealed record SignatureVectorFile(
    [property: JsonPropertyName("family")] string Family,
    [property: JsonPropertyName("keys")] Dictionary<string, string> Keys,
    [property: JsonPropertyName("vectors")] List<SignatureVector> Vectors);

public static class SignatureVectors
{
    public const string Evm = "evm.json";
    public const string Solana = "solana.json";

    private static readonly Lazy<Dictionary<string, SignatureVectorFile>> Files = new(() =>
        new[] { Evm, Solana }.ToDictionary(f => f, Load));

    public static SignatureVectorFile File(string file) => Files.Value[file];

    public static SignatureVector Get(string file, string name) => File(file).Vectors.Single(v => v.Name == name);

    public static IEnumerable<SignatureVector> All => Files.Value.Values.SelectMany(f => f.Vectors);

    /// <summary>(file, vector name) pairs, so each vector is its own test case with a readable name.</summary>
    public static TheoryData<string, string> Cases(Func<SignatureVector, bool>? where = null)
    {
        var data = new TheoryData<string, string>();
        foreach (var (file, contents) in Files.Value)
        {
            foreach (var vector in contents.Vectors.Where(where ?? (_ => true)))
            {
                data.Add(file, vector.Name);
            }
        }

        return data;
    }

    private static SignatureVectorFile Load(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Security", "Vectors", file);
        return JsonSerializer.Deserialize<SignatureVectorFile>(System.IO.File.ReadAllText(path))
            ?? throw new InvalidOperationException($"{path} is empty");
    }
}
