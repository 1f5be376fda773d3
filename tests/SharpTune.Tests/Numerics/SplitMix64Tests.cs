using System.Runtime.Intrinsics;
using SharpTune.Numerics;

namespace SharpTune.Tests.Numerics;

/// <summary>The one SplitMix64 of the code base: its published sequence, and the mixer's scalar and vector forms agree.</summary>
public sealed class SplitMix64Tests
{
    [Fact]
    public void Seed_zero_gives_the_reference_sequence()
    {
        // The first outputs of Vigna's splitmix64.c seeded with 0.
        var rng = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, rng.NextUInt64());
    }

    [Fact]
    public void Mix_is_one_generator_step()
    {
        Assert.Equal(0xE220A8397B1DCDAFUL, SplitMix64.Mix(0));
        Assert.Equal(0x22118258A9D111A0UL, SplitMix64.Mix(12345));
        ulong seed = 0xDEADBEEF;
        var rng = new SplitMix64(seed);
        for (ulong n = 0; n < 5; n++) Assert.Equal(SplitMix64.Mix(seed + n * 0x9E3779B97F4A7C15UL), rng.NextUInt64());
    }

    [Fact]
    public void Vector_mixers_match_the_scalar_one_lane_by_lane()
    {
        ulong[] inputs = [0, 1, 12345, ulong.MaxValue, 0x8000_0000_0000_0000UL, 0x9E3779B97F4A7C15UL, 42, 7];
        var wide = SplitMix64.Mix(Vector256.Create(inputs[0], inputs[1], inputs[2], inputs[3]));
        var narrow = SplitMix64.Mix(Vector128.Create(inputs[4], inputs[5]));
        for (int i = 0; i < 4; i++) Assert.Equal(SplitMix64.Mix(inputs[i]), wide[i]);
        for (int i = 0; i < 2; i++) Assert.Equal(SplitMix64.Mix(inputs[4 + i]), narrow[i]);
    }
}
