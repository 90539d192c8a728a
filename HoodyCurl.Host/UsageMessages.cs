// Turns System.CommandLine's type-conversion errors into sentences an operator can act on:
// "--pool-global: 'x' must be an integer" instead of "... as expected type 'System.Int32'".
using System.Text.RegularExpressions;

namespace HoodyCurl.Host;

internal static partial class UsageMessages
{
    public static string Explain(string message)
    {
        var match = CannotParse().Match(message);
        if (!match.Success) return message;
        var kind = match.Groups["type"].Value switch
        {
            "System.Int32" or "System.Int64" or "System.Int16" => "an integer",
            "System.UInt32" or "System.UInt64" => "a non-negative integer",
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Boolean" => "true or false",
            "System.TimeSpan" => "a duration",
            _ => "a valid value",
        };
        return $"{match.Groups["flag"].Value}: '{match.Groups["value"].Value}' is not valid, it must be {kind}";
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<flag>[^']+)' as expected type '(?<type>[^']+)'\.?$", RegexOptions.Singleline)]
    private static partial Regex CannotParse();
}
