// Small helpers that turn parsed flag values into validated option values with messages naming the flag.
using System.CommandLine;

namespace HoodyCurl.Kernel.Flags;

public static class FlagReader
{
    public static Option<T> Define<T>(Command command, string name, string description, T defaultValue)
    {
        var option = new Option<T>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        command.Options.Add(option);
        return option;
    }

    public static Option<string[]> DefineList(Command command, string name, string description)
    {
        var option = new Option<string[]>(name)
        {
            Description = description + " (repeatable)",
            DefaultValueFactory = _ => [],
            AllowMultipleArgumentsPerToken = false,
        };
        command.Options.Add(option);
        return option;
    }

    public static Option<bool> DefineSwitch(Command command, string name, string description)
    {
        var option = new Option<bool>(name) { Description = description, Arity = ArgumentArity.Zero };
        command.Options.Add(option);
        return option;
    }

    public static long Positive(ParseResult flags, Option<long> option)
    {
        var value = flags.GetValue(option);
        if (value <= 0) throw new FlagException(option.Name, $"must be a positive integer, got {value}");
        return value;
    }

    public static int Positive(ParseResult flags, Option<int> option)
    {
        var value = flags.GetValue(option);
        if (value <= 0) throw new FlagException(option.Name, $"must be a positive integer, got {value}");
        return value;
    }

    public static int NonNegative(ParseResult flags, Option<int> option)
    {
        var value = flags.GetValue(option);
        if (value < 0) throw new FlagException(option.Name, $"must be zero or a positive integer, got {value}");
        return value;
    }
}
