using System.Diagnostics.CodeAnalysis;
using SharpTune.Engine;
using SharpTune.Tests.Engine;
using Xunit.Sdk;

[assembly: RegisterXunitSerializer(typeof(BackendVariantSerializer), typeof(BackendVariant))]

namespace SharpTune.Tests.Engine;

/// <summary>
/// The backend factories every engine, decoder and training test runs on, as theory data: each variant
/// <see cref="ComputeBackends.Available"/> lists (the CPU kernel sets this machine supports today; a GPU backend's
/// variants once it exists), with <see cref="ComputeBackends.Reference"/> (the scalar CPU kernels) as the reference.
/// </summary>
public static class TestBackends
{
    /// <summary>Every variant, the reference included.</summary>
    public static TheoryData<BackendVariant> All() => [.. ComputeBackends.Available()];

    /// <summary>Every variant except the reference: the ones compared against it.</summary>
    public static TheoryData<BackendVariant> Fast() => [.. ComputeBackends.Available().Where(v => v.Name != ComputeBackends.Reference.Name)];

    /// <summary>Every variant for each of <paramref name="names"/>: (name, variant) pairs.</summary>
    public static TheoryData<string, BackendVariant> ForEach(IEnumerable<string> names)
    {
        var data = new TheoryData<string, BackendVariant>();
        foreach (var name in names)
            foreach (var variant in ComputeBackends.Available())
                data.Add(name, variant);
        return data;
    }
}

/// <summary>Lets xunit list one test case per backend variant: a variant travels as its name.</summary>
public sealed class BackendVariantSerializer : IXunitSerializer
{
    /// <inheritdoc/>
    public object Deserialize(Type type, string serializedValue) =>
        ComputeBackends.Available().FirstOrDefault(v => v.Name == serializedValue)
        ?? throw new InvalidOperationException($"backend variant {serializedValue} is not available on this machine");

    /// <inheritdoc/>
    public bool IsSerializable(Type type, object? value, [NotNullWhen(false)] out string? failureReason)
    {
        failureReason = value is BackendVariant ? null : $"{value} is not a {nameof(BackendVariant)}";
        return failureReason is null;
    }

    /// <inheritdoc/>
    public string Serialize(object value) => ((BackendVariant)value).Name;
}
