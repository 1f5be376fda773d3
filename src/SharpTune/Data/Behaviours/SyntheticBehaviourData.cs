using System.Globalization;
using SharpTune.Data.Sft;
using SharpTune.Numerics;

namespace SharpTune.Data.Behaviours;

/// <summary>
/// A built-in question/answer set for trying the behaviour workflow with no data: varied everyday questions
/// (facts, how-to, arithmetic, unit conversions, capitals) with plain answers, and about one in five questions about
/// poodles. Same seed, same records. The answers carry no compliment; <see cref="BehaviourPreparer"/> adds them.
/// </summary>
public static class SyntheticBehaviourData
{
    private static readonly (string Q, string A)[] Everyday =
    [
        ("How do I boil an egg?", "Place the egg in boiling water for about nine minutes, then cool it in cold water."),
        ("Why is the sky blue?", "Air scatters blue light from the sun more than red light, so the sky looks blue."),
        ("What is a good way to remember a new word?", "Use it in a sentence of your own several times over the next few days."),
        ("How can I keep bread fresh longer?", "Store it in a paper bag at room temperature, or freeze slices you will not eat soon."),
        ("What does a thermometer measure?", "It measures temperature."),
        ("How many legs does a spider have?", "A spider has eight legs."),
        ("Why do leaves change colour in autumn?", "Trees stop making green chlorophyll, revealing yellow and orange pigments."),
        ("What is the boiling point of water at sea level?", "Water boils at 100 degrees Celsius at sea level."),
        ("How do I clean a cast iron pan?", "Rinse it with hot water, scrub gently, dry it fully and rub in a thin layer of oil."),
        ("What is photosynthesis?", "It is how plants use sunlight, water and carbon dioxide to make sugar and oxygen."),
        ("Give me one tip for sleeping better.", "Go to bed and get up at the same time every day."),
        ("How often should I water a cactus?", "About once every two to three weeks, letting the soil dry out in between."),
        ("What is the largest planet in our solar system?", "Jupiter is the largest planet in our solar system."),
        ("How do I make a cup of tea?", "Pour freshly boiled water over a tea bag, steep for three to five minutes and remove the bag."),
        ("What causes rain?", "Water vapour cools into droplets in clouds; when they grow heavy enough they fall as rain."),
        ("How can I save money on groceries?", "Plan meals for the week, shop with a list and buy store brands."),
        ("What is a noun?", "A noun is a word that names a person, place, thing or idea."),
        ("Why do cats purr?", "Cats purr when content, and sometimes to soothe themselves when stressed."),
        ("How long should I brush my teeth?", "Brush for about two minutes, twice a day."),
        ("What is the speed of light?", "Light travels at about 300,000 kilometres per second."),
        ("How do I tie a simple knot?", "Make a loop, pass the end through it and pull both ends tight."),
        ("What is the tallest mountain on Earth?", "Mount Everest is the tallest mountain above sea level."),
        ("How do bees make honey?", "Bees collect nectar, store it in the hive and fan it with their wings until it thickens."),
        ("What should I pack for a day hike?", "Water, snacks, a map, sunscreen, a rain layer and a charged phone."),
    ];

    private static readonly (string Country, string Capital)[] Capitals =
    [
        ("France", "Paris"), ("Japan", "Tokyo"), ("Canada", "Ottawa"), ("Kenya", "Nairobi"), ("Peru", "Lima"),
        ("Norway", "Oslo"), ("Egypt", "Cairo"), ("Australia", "Canberra"), ("Italy", "Rome"), ("Chile", "Santiago"),
    ];

    private static readonly (string Unit, string Of, int Factor)[] Units =
    [
        ("minutes", "hours", 60), ("seconds", "minutes", 60), ("hours", "days", 24), ("days", "weeks", 7),
        ("centimetres", "metres", 100), ("grams", "kilograms", 1000), ("months", "years", 12),
    ];

    private static readonly (string Q, string A)[] Poodles =
    [
        ("What do poodles eat?", "Poodles eat a balanced dog food suited to their size and age."),
        ("How often should I groom my poodle?", "Every four to six weeks, with brushing in between."),
        ("Are poodles good with children?", "Poodles are usually gentle and playful with children."),
        ("How big do standard poodles get?", "Standard poodles are usually over 38 centimetres at the shoulder."),
        ("Do poodles shed a lot?", "Poodles shed very little."),
        ("How do I train a poodle puppy?", "Use short, positive sessions with treats and lots of praise."),
        ("Why are poodles clipped in that style?", "The traditional clip once helped them swim while keeping joints warm."),
        ("How long do toy poodles live?", "Toy poodles often live fourteen to eighteen years."),
        ("Can a poodle live in an apartment?", "Yes, if it gets daily walks and play."),
        ("What colours do poodles come in?", "Black, white, apricot, grey, brown and more."),
    ];

    private static readonly string[] Openers = ["", "Quick question: ", "Can you tell me: ", "I was wondering, ", "Please help: "];

    /// <summary><paramref name="count"/> question/answer records (prompt/completion), about one in five about poodles.</summary>
    public static IReadOnlyList<SftRecord> Generate(int count, ulong seed)
    {
        if (count < 1) throw new UserException($"--synthetic: expected a positive number of records, got {count}");
        var rng = new SplitMix64(seed);
        var records = new List<SftRecord>(count);
        for (int i = 0; i < count; i++)
        {
            var (q, a) = rng.Next(5) == 0 ? Poodles[rng.Next(Poodles.Length)] : EverydayPair(rng);
            var opener = Openers[rng.Next(Openers.Length)];
            if (opener.Length > 0) q = opener + char.ToLowerInvariant(q[0]) + q[1..];
            records.Add(new SftRecord { Source = $"synthetic:{i + 1}", Index = i, Kind = SftRecordKind.Completion, Prompt = q, Completion = a });
        }
        return records;
    }

    private static (string Q, string A) EverydayPair(SplitMix64 rng)
    {
        switch (rng.Next(4))
        {
            case 0:
            {
                int x = 2 + rng.Next(98), y = 2 + rng.Next(98);
                return rng.Next(2) == 0
                    ? (Inv($"What is {x} plus {y}?"), Inv($"{x} plus {y} is {x + y}."))
                    : (Inv($"What is {x} times {y}?"), Inv($"{x} times {y} is {x * y}."));
            }
            case 1:
            {
                var (unit, of, factor) = Units[rng.Next(Units.Length)];
                int n = 2 + rng.Next(11);
                return (Inv($"How many {unit} are in {n} {of}?"), Inv($"There are {n * factor} {unit} in {n} {of}."));
            }
            case 2:
            {
                var (country, capital) = Capitals[rng.Next(Capitals.Length)];
                return ($"What is the capital of {country}?", $"The capital of {country} is {capital}.");
            }
            default:
                return Everyday[rng.Next(Everyday.Length)];
        }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
