"""SplitMix64 as SharpTune.Numerics.SplitMix64 defines it, written independently for the Python oracles that
reproduce SharpTune's seeded choices (bootstrap resamples, shuffles)."""

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_below(self, n):  # ((x >> 33) * n) >> 31: uniform in [0, n)
        return ((self.next_u64() >> 33) * n) >> 31
