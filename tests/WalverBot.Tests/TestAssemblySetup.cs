using System.Runtime.CompilerServices;

namespace WalverBot.Tests;

internal static class TestAssemblySetup
{
    /// <summary>Runs before any test of this assembly touches the temporary folder: test databases go to RAM (see MemoryTempFolder).</summary>
    [ModuleInitializer]
    internal static void Initialize() => WalverBot.Testing.Files.MemoryTempFolder.Use();
}
