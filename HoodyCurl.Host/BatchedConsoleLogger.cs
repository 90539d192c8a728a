// The log sink: the framework's console formatters (simple single-line or json, exactly as before) with
// our own writer. Lines are formatted on the calling thread into one shared UTF-8 buffer, and a writer thread
// writes what gathered in one write(2) per ~10 ms. The framework's console logger woke its thread and made
// one write per line: at 4,000 relayed requests/s that was 6% of the process's CPU, mostly context switches
// (perf, issue 13). A line reaches stdout at most ~10 ms after it was logged; Dispose (host shutdown) and
// process exit flush the rest.
using System.Buffers;
using System.Text;
using HoodyCurl.Kernel.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace HoodyCurl.Host;

internal sealed class BatchedConsoleLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    /// <summary>How long the writer lets lines gather after the first one before writing them.</summary>
    private const int GatherMs = 10;
    /// <summary>Beyond this many unwritten bytes (stdout blocked or slow) the logging thread writes them itself.</summary>
    private const int MaxPendingBytes = 1024 * 1024;

    [ThreadStatic] private static StringWriter? t_line;
    [ThreadStatic] private static byte[]? t_bytes;

    private readonly ConsoleFormatter _formatter;
    private readonly Stream _stdout;
    private readonly Lock _gate = new();
    private readonly Lock _writeGate = new();
    private readonly AutoResetEvent _signal = new(false);
    private readonly Thread _writer;
    private ArrayBufferWriter<byte> _pending = new(16 * 1024);
    private ArrayBufferWriter<byte> _writing = new(16 * 1024);
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
    private volatile bool _disposed;

    /// <summary>Whether each line starts with the UTC timestamp written here (the simple format; json has its own).</summary>
    private readonly bool _prefixTimestamp;

    /// <summary>
    /// Per log level, what the simple formatter writes before the category ("info: ", with its colour codes when it
    /// uses colours), or null where an <see cref="IUtf8LogMessage"/> goes through the formatter like any other state.
    /// </summary>
    private readonly byte[][]? _levelPrefixes;

    private static readonly byte[] NewLine = Encoding.UTF8.GetBytes(Environment.NewLine);

    public BatchedConsoleLoggerProvider(IEnumerable<ConsoleFormatter> formatters, string formatterName, bool prefixTimestamp)
    {
        _prefixTimestamp = prefixTimestamp;
        _formatter = formatters.First(f => f.Name == formatterName);
        if (prefixTimestamp) _levelPrefixes = ProbeLevelPrefixes(_formatter, _scopes);
        _stdout = Console.OpenStandardOutput();
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "hoody-curl-log" };
        _writer.Start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Flush();
    }

    public ILogger CreateLogger(string categoryName) => new BatchedLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    private void Log<TState>(BatchedLogger logger, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> format)
    {
        if (_levelPrefixes is { } prefixes && exception is null && state is IUtf8LogMessage message)
        {
            WriteUtf8(logger.CategoryUtf8, prefixes[(int)level], eventId.Id, message);
            return;
        }
        var category = logger.Category;
        var line = t_line ??= new StringWriter(new StringBuilder(256), System.Globalization.CultureInfo.InvariantCulture);
        var text = line.GetStringBuilder();
        text.Clear();
        if (_prefixTimestamp) text.Append(Timestamp());
        var prefix = text.Length;
        _formatter.Write(new LogEntry<TState>(level, category, eventId, state, exception, format), _scopes, line);
        if (text.Length == prefix) return;
        bool first, over;
        lock (_gate)
        {
            first = _pending.WrittenCount == 0;
            foreach (var chunk in text.GetChunks()) Encoding.UTF8.GetBytes(chunk.Span, _pending);
            over = _pending.WrittenCount > MaxPendingBytes;
        }
        if (text.Capacity > 16 * 1024) t_line = null; // one huge line (an exception) does not stay pinned to the thread
        Appended(first, over);
    }

    /// <summary>After lines were appended: the writer is woken by the first line of a batch, or the caller writes a full one itself.</summary>
    private void Appended(bool first, bool over)
    {
        if (over) Flush();
        else if (first) _signal.Set();
    }

    /// <summary>
    /// The simple format's line for a state that writes its own UTF-8 message: the same bytes the formatter would give
    /// (timestamp, level, category, [event id], message with line ends replaced by spaces, line end), written
    /// straight into a per-thread buffer. Per relayed 1 KiB request at 32 callers: 193k → 190–192k instructions
    /// (callgrind), CPU −0.9% (paired); the line's string, formatter pass and UTF-16 → UTF-8 copy were half its cost
    /// (issue 13).
    /// </summary>
    private void WriteUtf8(byte[] category, byte[] levelPrefix, int eventId, IUtf8LogMessage message)
    {
        var buffer = t_bytes ??= new byte[512];
        int length;
        while (!TryWriteLine(buffer, category, levelPrefix, eventId, message, out length))
        {
            buffer = new byte[buffer.Length * 2];
            if (buffer.Length <= 16 * 1024) t_bytes = buffer; // one huge line does not stay pinned to the thread
        }
        bool first, over;
        lock (_gate)
        {
            first = _pending.WrittenCount == 0;
            _pending.Write(buffer.AsSpan(0, length));
            over = _pending.WrittenCount > MaxPendingBytes;
        }
        Appended(first, over);
    }

    private static bool TryWriteLine(Span<byte> line, byte[] category, byte[] levelPrefix, int eventId, IUtf8LogMessage message, out int length)
    {
        length = 0;
        var stamp = TimestampUtf8();
        var head = stamp.Length + levelPrefix.Length + category.Length + 1 + 11 + 2;
        if (line.Length < head + NewLine.Length) return false;
        var n = 0;
        stamp.CopyTo(line); n += stamp.Length;
        levelPrefix.CopyTo(line[n..]); n += levelPrefix.Length;
        category.CopyTo(line[n..]); n += category.Length;
        line[n++] = (byte)'[';
        eventId.TryFormat(line[n..], out var digits, default, System.Globalization.CultureInfo.InvariantCulture);
        n += digits;
        line[n++] = (byte)']';
        // The formatter writes " " and the message only when the message is not empty.
        if (!message.TryWriteMessage(line[(n + 1)..], out var written) || n + 1 + written + NewLine.Length > line.Length) return false;
        if (written > 0)
        {
            line[n] = (byte)' ';
            line.Slice(n + 1, written).Replace(NewLine[0], (byte)' '); // single-line: a line end in the message becomes a space
            n += 1 + written;
        }
        NewLine.CopyTo(line[n..]);
        length = n + NewLine.Length;
        return true;
    }

    /// <summary>
    /// What the simple formatter writes before the category, per level, read off the formatter itself with a probe
    /// entry, so the UTF-8 lines are the formatter's bytes (colours included when it uses them). Null, and every state
    /// goes through the formatter, when the probe's line is not "prefix + category[id] message + line end" (scopes
    /// included in the line, a multi-line format, a line end other than one byte).
    /// </summary>
    private static byte[][]? ProbeLevelPrefixes(ConsoleFormatter formatter, IExternalScopeProvider scopes)
    {
        if (NewLine.Length != 1) return null;
        const string probeCategory = "hoody-curl-probe";
        var tail = probeCategory + "[7] m" + Environment.NewLine;
        var prefixes = new byte[(int)LogLevel.Critical + 1][];
        using var scope = scopes.Push("probe-scope");
        for (var level = LogLevel.Trace; level <= LogLevel.Critical; level++)
        {
            using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
            formatter.Write(new LogEntry<string>(level, probeCategory, new EventId(7), "m", null, static (s, _) => s), scopes, writer);
            var text = writer.ToString();
            if (!text.EndsWith(tail, StringComparison.Ordinal)) return null;
            prefixes[(int)level] = Encoding.UTF8.GetBytes(text[..^tail.Length]);
        }
        return prefixes;
    }

    /// <summary>The lines' UTC timestamp, in both formats (the json formatter writes its own with it).</summary>
    internal const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";

    private sealed class Stamp(long millisecond, string text)
    {
        public readonly long Millisecond = millisecond;
        public readonly string Text = text;
        public readonly byte[] Utf8 = Encoding.UTF8.GetBytes(text);
    }

    private static Stamp? s_stamp;

    /// <summary>
    /// "yyyy-MM-ddTHH:mm:ss.fffZ ", exactly what the simple formatter wrote, formatted once per millisecond: the
    /// formatter's custom-format DateTimeOffset.ToString on every line was a quarter of the access line's cost (0.55% of
    /// the process at 256 callers by perf); paired, CPU per request 1.5-3% lower at 256 callers, 1-1.6% at 32 (issue 13).
    /// </summary>
    private static string Timestamp() => CurrentStamp().Text;

    private static byte[] TimestampUtf8() => CurrentStamp().Utf8;

    private static Stamp CurrentStamp()
    {
        var now = DateTime.UtcNow;
        var millisecond = now.Ticks / TimeSpan.TicksPerMillisecond;
        var stamp = Volatile.Read(ref s_stamp);
        if (stamp is not null && stamp.Millisecond == millisecond) return stamp;
        stamp = new Stamp(millisecond, now.ToString(TimestampFormat + " ", System.Globalization.CultureInfo.InvariantCulture));
        Volatile.Write(ref s_stamp, stamp);
        return stamp;
    }

    private void WriteLoop()
    {
        while (!_disposed)
        {
            _signal.WaitOne();
            Thread.Sleep(GatherMs);
            Flush();
        }
    }

    /// <summary>Writes what gathered, in order: one writer at a time, buffers swapped under the append lock.</summary>
    private void Flush()
    {
        lock (_writeGate)
        {
            lock (_gate) (_pending, _writing) = (_writing, _pending);
            if (_writing.WrittenCount == 0) return;
            try
            {
                _stdout.Write(_writing.WrittenSpan);
                _stdout.Flush();
            }
            catch (IOException)
            {
                // stdout closed (the supervisor went away): the lines are dropped, the sidecar keeps serving.
            }
            _writing.ResetWrittenCount();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _signal.Set();
        _writer.Join(TimeSpan.FromSeconds(1));
        Flush();
    }

    private sealed class BatchedLogger(BatchedConsoleLoggerProvider provider, string category) : ILogger
    {
        public string Category => category;

        public byte[] CategoryUtf8 { get; } = Encoding.UTF8.GetBytes(category);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) provider.Log(this, logLevel, eventId, state, exception, formatter);
        }
    }
}
