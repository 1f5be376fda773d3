using System.Reflection;
using SharpTune.Cli.CommandLine;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune version</c>.</summary>
internal static class VersionCommand
{
    public static CliCommand Create() =>
        new CliCommand("version", "Print the SharpTune version and runtime.").Handle(a =>
        {
            var v = typeof(UserException).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            a.Out.WriteLine($"sharptune {v} (.NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture})");
            return CliApp.Success;
        });
}
