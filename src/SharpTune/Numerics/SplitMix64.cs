using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpTune.Numerics;

/// <summary>
/// A small seeded random generator (SplitMix64) whose sequence is fixed by this code, not by the runtime version,
/// so the same seed gives the same data and splits everywhere. <see cref="Mix(ulong)"/>, its step function, is the one
/// counter-based hash of the code base: weight initialisation (<c>ModelInitializer</c>, <c>LoraInitializer</c>) and
/// the dropout mask call it on (key + element index), so any element can be computed on its own.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    private const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    private ulong _state = seed;

    /// <summary>
    /// One SplitMix64 step on <paramref name="z"/>: add the golden gamma, then the finalizer (a bijective 64-bit mixer).
    /// The generator's n-th output (from 0) is <c>Mix(seed + n·gamma)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong z)
    {
        z += GoldenGamma;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary><see cref="Mix(ulong)"/> on each lane (bit-identical), for vectorised counter-based hashing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Mix(Vector256<ulong> z)
    {
        z += Vector256.Create(GoldenGamma);
        z = (z ^ (z >>> 30)) * Vector256.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >>> 27)) * Vector256.Create(0x94D049BB133111EBUL);
        return z ^ (z >>> 31);
    }

    /// <summary><see cref="Mix(ulong)"/> on each lane (bit-identical), for vectorised counter-based hashing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ulong> Mix(Vector128<ulong> z)
    {
        z += Vector128.Create(GoldenGamma);
        z = (z ^ (z >>> 30)) * Vector128.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >>> 27)) * Vector128.Create(0x94D049BB133111EBUL);
        return z ^ (z >>> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state;
        _state += GoldenGamma;
        return Mix(z);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int Next(int n) => (int)((NextUInt64() >> 33) * (ulong)n >> 31);

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
